// The API docs page (/api/v1/docs): lists the operations of openapi.json.
fetch('openapi.json').then(r => r.json()).then(doc => {
  const ops = document.getElementById('ops'); ops.textContent = '';
  const esc = s => String(s ?? '').replace(/[&<>]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;'}[c]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const d = document.createElement('details');
      const params = (op.parameters || []).map(p => `<li><code>${esc(p.name)}</code> (${esc(p.in)}) ${esc(p.description)}</li>`).join('');
      const body = op.requestBody ? `<p>Body:</p><pre>${esc(JSON.stringify((Object.values(op.requestBody.content)[0] || {}).schema, null, 2))}</pre>` : '';
      const resp = Object.entries(op.responses || {}).map(([c, r]) => `<li><code>${esc(c)}</code> ${esc(r.description)}</li>`).join('');
      d.innerHTML = `<summary><span class="m">${esc(method)}</span> <code>${esc(path)}</code> — ${esc(op.summary || '')}</summary>
        <p>${esc(op.description || '')}</p>${params ? '<p>Parameters:</p><ul>' + params + '</ul>' : ''}${body}<p>Responses:</p><ul>${resp}</ul>`;
      ops.appendChild(d);
    }
  }
  const s = document.createElement('details'); s.innerHTML = '<summary>Schemas</summary><pre>' + esc(JSON.stringify(doc.components.schemas, null, 2)) + '</pre>';
  ops.appendChild(s);
}).catch(e => { document.getElementById('ops').textContent = 'Could not load openapi.json: ' + e; });
