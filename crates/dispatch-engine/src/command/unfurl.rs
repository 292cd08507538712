//! Unfurling: a message in any transport that names an incident (`INC-12`) gets the incident's
//! status card beside it, so nobody has to go and look it up.

use crate::admin::Authenticated;
use crate::Result;
use dispatch_core::message::RichMessage;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, Visibility};
use dispatch_store::repo;

/// Most incidents unfurled for one message.
pub const MAX_UNFURLS: usize = 3;

impl crate::Chat<'_> {
    /// The status cards of the incidents `text` names, to be shown to everyone where the
    /// message was posted: only incidents its author may see and that are not restricted (the
    /// others stay unmentioned, as if they did not exist), not the incident whose room it is
    /// (`here`), each once, at most [`MAX_UNFURLS`].
    pub async fn unfurl(
        &self,
        author: &Authenticated,
        text: &str,
        here: Option<i64>,
    ) -> Result<Vec<RichMessage>> {
        let conn = self.db().conn();
        let mut cards = Vec::new();
        for name in dispatch_core::chat::incident_names(text, MAX_UNFURLS) {
            let r = IncidentRef::Key(name);
            let Some(row) = repo::incident::visible_row(conn, author.viewer(), &r).await? else {
                continue;
            };
            if Some(row.id) == here || row.visibility != Visibility::Open.as_str() {
                continue;
            }
            let row = repo::incident::get(conn, &IncidentRef::Id(IncidentId(row.id))).await?;
            cards.push(crate::rules::notification::card(self, conn, &row).await?);
        }
        Ok(cards)
    }
}
