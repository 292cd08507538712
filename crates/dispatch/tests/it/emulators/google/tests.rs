//! The emulator against the documentation's own samples.

use super::*;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

/// A JWT signed with the fixture key, as the "Preparing to make an authorized API call"
/// guide builds it (header `{"alg":"RS256","typ":"JWT"}`, claims iss/sub/scope/aud/exp/iat).
fn jwt(claims: &Value) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let key = RsaKeyPair::from_pkcs8(&private_key_der()).unwrap();
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(&sig))
}

async fn grant(g: &Google, assertion: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(&g.token_url)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_emulator_checks_the_jwt_and_answers_the_docs_samples() {
    let g = Google::start().await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": CLIENT_EMAIL, "sub": SUBJECT,
        "scope": DELEGATED.join(" "), "aud": g.token_url, "exp": now + 3600, "iat": now});
    // A signature by another key, a wrong audience, an expired assertion: invalid_grant.
    let mut forged = jwt(&claims);
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(grant(&g, &forged).await.1["error"], "invalid_grant");
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("https://oauth2.googleapis.com/token");
    let (status, body) = grant(&g, &jwt(&wrong_aud)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let mut old = claims.clone();
    old["iat"] = json!(now - 7200);
    old["exp"] = json!(now - 3600);
    assert_eq!(grant(&g, &jwt(&old)).await.1["error"], "invalid_grant");
    // A scope not delegated: unauthorized_client.
    g.delegate(&DELEGATED[..1]);
    let (status, body) = grant(&g, &jwt(&claims)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized_client"))
    );
    g.delegate(DELEGATED);
    let (status, body) = grant(&g, &jwt(&claims)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap().to_string();
    let c = reqwest::Client::new();
    let call = |m: reqwest::Method, url: String| c.request(m, url).bearer_auth(&token);

    // Drive: a folder (the "Create and populate folders" sample), a copy of a template
    // document, permissions listed without and with `fields`.
    let folder: Value = call(reqwest::Method::POST, format!("{}/files", g.drive_url))
        .json(&json!({"name": "Invoices", "mimeType": FOLDER_MIME,
                      "parents": [PARENT_FOLDER], "appProperties": {"k": "v"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(folder["kind"], "drive#file");
    assert_eq!(folder["mimeType"], FOLDER_MIME);
    assert!(
        folder.get("parents").is_none(),
        "default fields only: {folder}"
    );
    let fid = folder["id"].as_str().unwrap();
    let q = format!("appProperties has {{ key='k' and value='v' }} and '{PARENT_FOLDER}' in parents and trashed = false");
    let found: Value = call(reqwest::Method::GET, format!("{}/files", g.drive_url))
        .query(&[("q", q.as_str()), ("fields", "files(id,parents)")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["files"][0]["id"], fid);
    assert_eq!(found["files"][0]["parents"][0], PARENT_FOLDER);
    let bad = call(reqwest::Method::GET, format!("{}/files", g.drive_url))
        .query(&[("q", "fullText contains 'x' or")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    g.add_template("tpl", "Template", "# {{name}} · {{name}} · {{title}}", true);
    g.add_template("secret", "Not shared", "x", false);
    let missing = call(
        reqwest::Method::POST,
        format!("{}/files/secret/copy", g.drive_url),
    )
    .json(&json!({}))
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    let e: Value = missing.json().await.unwrap();
    assert_eq!(e["error"]["message"], "File not found: secret.");
    assert_eq!(e["error"]["errors"][0]["reason"], "notFound");
    let copy: Value = call(
        reqwest::Method::POST,
        format!("{}/files/tpl/copy", g.drive_url),
    )
    .json(&json!({"name": "INC-1 document", "parents": [fid]}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let doc = copy["id"].as_str().unwrap();
    // Docs: the "Merge text into a document" sample's replaceAllText requests.
    let r: Value = call(
        reqwest::Method::POST,
        format!("{}/documents/{doc}:batchUpdate", g.docs_url),
    )
    .json(&json!({"requests": [
        {"replaceAllText": {"containsText": {"text": "{{name}}", "matchCase": true},
                            "replaceText": "INC-1"}},
        {"replaceAllText": {"containsText": {"text": "{{nothing}}", "matchCase": true},
                            "replaceText": "x"}}]}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(r["documentId"], doc);
    assert_eq!(r["replies"][0]["replaceAllText"]["occurrencesChanged"], 2);
    assert_eq!(r["replies"][1]["replaceAllText"], json!({}));
    let read: Value = call(
        reqwest::Method::GET,
        format!("{}/documents/{doc}", g.docs_url),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        read["body"]["content"][0]["endIndex"], 1,
        "the section break"
    );
    let para = &read["body"]["content"][1];
    assert_eq!(
        para["paragraph"]["elements"][0]["textRun"]["content"],
        "# INC-1 · INC-1 · {{title}}"
    );
    assert_eq!(
        (para["startIndex"].as_u64(), para["endIndex"].as_u64()),
        (Some(1), Some(28))
    );
    // The named ranges guide: a range made over the first "INC-1" (indexes 3..8) moves when
    // text goes in before it, and is replaced by deleting its content, inserting the new text
    // and making the range again; a request out of the body fails the whole batch.
    let batch = |requests: Value| {
        call(
            reqwest::Method::POST,
            format!("{}/documents/{doc}:batchUpdate", g.docs_url),
        )
        .json(&json!({ "requests": requests }))
        .send()
    };
    let r: Value = batch(json!([
        {"createNamedRange": {"name": "who", "range": {"startIndex": 3, "endIndex": 8}}},
        {"insertText": {"location": {"index": 1}, "text": ">"}}]))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(
        r["replies"][0]["createNamedRange"]["namedRangeId"].is_string(),
        "{r}"
    );
    let read: Value = call(
        reqwest::Method::GET,
        format!("{}/documents/{doc}", g.docs_url),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let range = &read["namedRanges"]["who"]["namedRanges"][0]["ranges"][0];
    assert_eq!(
        (range["startIndex"].as_u64(), range["endIndex"].as_u64()),
        (Some(4), Some(9))
    );
    let r = batch(json!([
        {"deleteContentRange": {"range": {"startIndex": 4, "endIndex": 9}}},
        {"insertText": {"location": {"index": 4}, "text": "INC-22"}},
        {"createNamedRange": {"name": "who", "range": {"startIndex": 4, "endIndex": 10}}}]))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let ranges = g.named_ranges(doc);
    assert_eq!(
        ranges.len(),
        1,
        "the old range went with its content: {ranges:?}"
    );
    assert_eq!((ranges[0].start, ranges[0].end), (4, 10));
    let text = |g: &Google| g.files().into_iter().find(|f| f.id == doc).unwrap().text;
    assert_eq!(text(&g), "># INC-22 · INC-1 · {{title}}");
    let r = batch(json!([
        {"insertText": {"location": {"index": 1}, "text": "lost"}},
        {"deleteContentRange": {"range": {"startIndex": 1, "endIndex": 999}}}]))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        text(&g),
        "># INC-22 · INC-1 · {{title}}",
        "nothing of a failed batch"
    );
    let gone = call(
        reqwest::Method::POST,
        format!("{}/documents/nope:batchUpdate", g.docs_url),
    )
    .json(&json!({"requests": [{"insertText": {"location": {"index": 1}, "text": "x"}}]}))
    .send()
    .await
    .unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(
        gone.json::<Value>().await.unwrap()["error"]["status"],
        "NOT_FOUND"
    );
    // Permissions: created without mail, listed in pages, emailAddress only when asked.
    g.page_size(1);
    for who in ["a@example.com", "b@example.com"] {
        let r = call(
            reqwest::Method::POST,
            format!("{}/files/{fid}/permissions", g.drive_url),
        )
        .query(&[("sendNotificationEmail", "false")])
        .json(&json!({"type": "user", "role": "writer", "emailAddress": who}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
    }
    let page: Value = call(
        reqwest::Method::GET,
        format!("{}/files/{fid}/permissions", g.drive_url),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(page["permissions"].as_array().unwrap().len(), 1);
    assert!(page["permissions"][0].get("emailAddress").is_none());
    assert_eq!(page["nextPageToken"], "page-1");
    let f = g.files().into_iter().find(|f| f.id == fid).unwrap();
    assert!(f.permissions.iter().skip(1).all(|p| !p.notified));

    // Directory: the groups.insert sample, members paged, duplicates and missing members.
    let group: Value = call(reqwest::Method::POST, format!("{}/groups", g.directory_url))
        .json(
            &json!({"email": "sales_group@example.com", "name": "Sales Group",
                  "description": "This is the Sales group."}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(group["kind"], "admin#directory#group");
    let again = call(reqwest::Method::POST, format!("{}/groups", g.directory_url))
        .json(&json!({"email": "sales_group@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let members = format!("{}/groups/sales_group@example.com/members", g.directory_url);
    for m in ["liz@example.com", "sam@example.com"] {
        let r = call(reqwest::Method::POST, members.clone())
            .json(&json!({"email": m, "role": "MEMBER"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let dup = call(reqwest::Method::POST, members.clone())
        .json(&json!({"email": "liz@example.com", "role": "MEMBER"}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 409);
    assert_eq!(
        dup.json::<Value>().await.unwrap()["error"]["message"],
        "Member already exists."
    );
    let first: Value = call(reqwest::Method::GET, members.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["members"][0]["email"], "liz@example.com");
    let next = first["nextPageToken"].as_str().unwrap();
    let second: Value = call(reqwest::Method::GET, members.clone())
        .query(&[("pageToken", next)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(second["members"][0]["email"], "sam@example.com");
    assert!(second.get("nextPageToken").is_none());
    let r = call(
        reqwest::Method::DELETE,
        format!("{members}/nobody@example.com"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    // A made-up token is refused; 429 with Retry-After on demand.
    let r = c
        .get(format!("{}/about", g.drive_url))
        .bearer_auth("made-up")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["status"],
        "UNAUTHENTICATED"
    );
    g.faults().rate_limit_next(1);
    let limited = call(reqwest::Method::GET, format!("{}/about", g.drive_url))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "1");
}
