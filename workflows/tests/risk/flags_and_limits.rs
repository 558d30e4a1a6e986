//! The caller's flags, the "when in doubt" limits, and drafts refused at the edge.

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{Audience, Category, Draft, DraftError, DraftFlags, Verdict, assess};

use crate::support::check;

fn with_flags(text: &str, flags: DraftFlags) -> Draft {
    Draft::new(text, Audience::CustomerPrivate, "reply", flags).expect("draft")
}

#[test]
fn the_verification_conflict_flag_sends_an_innocent_text_to_review() {
    let draft = with_flags(
        "We'll look into it and get back to you.",
        DraftFlags {
            verification_conflict: true,
            ..DraftFlags::default()
        },
    );
    let a = assess(&draft, IdentityStatus::Confirmed, crate::support::policy());
    assert_eq!(a.verdict, Verdict::Review);
    assert_eq!(a.findings.len(), 1);
    let finding = &a.findings[0];
    assert_eq!(finding.category, Category::VerificationConflict);
    assert_eq!(finding.rule, "flag.verification_conflict");
    assert_eq!(finding.span, None);
}

#[test]
fn the_partner_rewrite_flag_sends_to_review_and_flags_combine() {
    let flags = DraftFlags {
        verification_conflict: true,
        partner_request_rewritten: true,
    };
    let a = assess(
        &with_flags("合作方需要您下周前确认一下尺寸。", flags),
        IdentityStatus::Confirmed,
        crate::support::policy(),
    );
    let cats = a.categories();
    assert!(cats.contains(&Category::PartnerComplexRewrite));
    assert!(cats.contains(&Category::VerificationConflict));
    assert_eq!(a.verdict, Verdict::Review);
}

#[test]
fn a_draft_longer_than_the_policy_allows_goes_to_review() {
    let at_limit = "好".repeat(600);
    let over = "好".repeat(601);
    assert_eq!(
        check(
            &at_limit,
            Audience::CustomerPrivate,
            IdentityStatus::Confirmed
        )
        .verdict,
        Verdict::Send
    );
    let a = check(&over, Audience::CustomerPrivate, IdentityStatus::Confirmed);
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].category, Category::InDoubt);
    assert_eq!(a.findings[0].rule, "limit.max_chars");
    assert!(a.findings[0].matched.contains("601 characters"));
}

#[test]
fn a_draft_in_a_script_the_lexicons_cannot_read_goes_to_review() {
    for text in [
        "ご注文の商品は本日発送されました。",
        "주문하신 상품이 오늘 발송되었습니다.",
    ] {
        let a = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
        assert!(a.categories().contains(&Category::InDoubt), "{text}");
    }
    let mixed = "您好，iPhone 的保护壳已经收到了，谢谢！";
    assert_eq!(
        check(mixed, Audience::CustomerPrivate, IdentityStatus::Confirmed).verdict,
        Verdict::Send
    );
}

#[test]
fn an_empty_draft_is_refused_at_the_edge_with_a_clear_message() {
    for text in ["", "   ", "\n\t ", "\u{200B}\u{FEFF} \u{3000}"] {
        let refused = Draft::new(
            text,
            Audience::CustomerPrivate,
            "reply",
            DraftFlags::default(),
        );
        assert_eq!(refused, Err(DraftError::EmptyText), "{text:?}");
    }
    assert!(DraftError::EmptyText.to_string().contains("no text"));
    let no_action = Draft::new(
        "您好",
        Audience::CustomerPrivate,
        " ",
        DraftFlags::default(),
    );
    assert_eq!(no_action, Err(DraftError::EmptyActionType));
}

#[test]
fn deserializing_a_draft_runs_the_same_checks() {
    let refused = serde_json::from_str::<Draft>(
        r#"{"text": "  ", "audience": "public_group", "action_type": "standard_faq"}"#,
    )
    .expect_err("empty text");
    assert!(refused.to_string().contains("no text"), "{refused}");
    let unknown_audience = serde_json::from_str::<Draft>(
        r#"{"text": "hi", "audience": "everyone", "action_type": "standard_faq"}"#,
    )
    .expect_err("unknown audience");
    assert!(
        unknown_audience.to_string().contains("public_group"),
        "{unknown_audience}"
    );
    let ok: Draft = serde_json::from_str(
        r#"{"text": "您好", "audience": "executor", "action_type": "reply", "flags": {"verification_conflict": true}}"#,
    )
    .expect("valid draft");
    assert!(ok.flags().verification_conflict);
    assert_eq!(ok.audience(), Audience::Executor);
}
