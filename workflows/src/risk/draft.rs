//! The draft a gate assesses, validated once at the edge: a draft with no text cannot be built.

use serde::{Deserialize, Serialize};

use crate::model::named_enum;

named_enum!(
    /// Who will read a draft.
    Audience, "audience" {
        /// The customer, in a private conversation.
        CustomerPrivate => "customer_private",
        /// A group chat (e.g. a WeCom customer group) that other customers can read.
        PublicGroup => "public_group",
        /// The actual executor of the service (technician, installer, customer-side executor).
        Executor => "executor",
        /// A fulfilment partner.
        Partner => "partner",
    }
);

/// What the caller knows about a draft that its text does not show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DraftFlags {
    /// Back-office verification conflicts with the customer's description.
    pub verification_conflict: bool,
    /// The draft relays a partner's request that had to be rewritten for the customer.
    pub partner_request_rewritten: bool,
}

/// Why a draft was refused before the gate looked at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    #[error(
        "the draft has no text (it is empty or only whitespace); write the reply before submitting it"
    )]
    EmptyText,
    #[error("the draft has no action type; name the action it belongs to, e.g. \"standard_faq\"")]
    EmptyActionType,
}

/// A reply an agent or a backend wants to send, as the risk gate sees it.
///
/// Built with [`Draft::new`] (or deserialized, which runs the same checks), so its text is
/// never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DraftParts")]
pub struct Draft {
    text: String,
    audience: Audience,
    action_type: String,
    flags: DraftFlags,
}

impl Draft {
    /// Checks and builds a draft. Text that is empty, whitespace or invisible characters only
    /// is refused, and so is an empty action type.
    pub fn new(
        text: impl Into<String>,
        audience: Audience,
        action_type: impl Into<String>,
        flags: DraftFlags,
    ) -> Result<Draft, DraftError> {
        let text = text.into();
        let action_type = action_type.into();
        if !text.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
            return Err(DraftError::EmptyText);
        }
        if action_type.trim().is_empty() {
            return Err(DraftError::EmptyActionType);
        }
        Ok(Draft {
            text,
            audience,
            action_type,
            flags,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn audience(&self) -> Audience {
        self.audience
    }

    pub fn action_type(&self) -> &str {
        &self.action_type
    }

    pub fn flags(&self) -> DraftFlags {
        self.flags
    }
}

/// Zero-width and byte-order characters: present in the text, but nothing a reader sees.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// The wire shape of a draft, checked by [`Draft::new`] on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftParts {
    text: String,
    audience: Audience,
    action_type: String,
    #[serde(default)]
    flags: DraftFlags,
}

impl TryFrom<DraftParts> for Draft {
    type Error = DraftError;

    fn try_from(parts: DraftParts) -> Result<Draft, DraftError> {
        Draft::new(parts.text, parts.audience, parts.action_type, parts.flags)
    }
}
