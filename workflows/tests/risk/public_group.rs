//! Public groups: customer-specific details and negative or sensitive content in a group chat
//! wait for review; ordinary announcements do not.

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{Audience, Category, Verdict};

use crate::support::check;

const SENSITIVE: Category = Category::SensitivePublicGroupReply;

#[test]
fn customer_specific_details_in_a_group_are_sensitive_even_with_identity_confirmed() {
    let text = "@王女士 您的订单今天已经发货了，单号SF1234567890，请注意查收～";
    let group = check(text, Audience::PublicGroup, IdentityStatus::Confirmed);
    assert!(
        group.categories().contains(&SENSITIVE),
        "{:?}",
        group.findings
    );
    let private = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
    assert_eq!(private.verdict, Verdict::Send, "{:?}", private.findings);
}

#[test]
fn incidents_and_apologies_are_sensitive_only_in_a_group() {
    let text = "关于昨天的系统故障，我们深表歉意。";
    assert!(
        check(text, Audience::PublicGroup, IdentityStatus::Unknown)
            .categories()
            .contains(&SENSITIVE)
    );
    assert_eq!(
        check(text, Audience::CustomerPrivate, IdentityStatus::Unknown).verdict,
        Verdict::Send
    );
    let english = "Hi all, about yesterday's outage: we're sorry for the disruption.";
    assert!(
        check(english, Audience::PublicGroup, IdentityStatus::Unknown)
            .categories()
            .contains(&SENSITIVE)
    );
}

#[test]
fn every_finding_in_a_group_also_marks_the_group_reply_at_the_same_span() {
    let a = check(
        "张姐，您那笔退款已经退了。",
        Audience::PublicGroup,
        IdentityStatus::Confirmed,
    );
    let refund = a
        .findings
        .iter()
        .find(|f| f.category == Category::Refund)
        .expect("refund");
    assert!(a.findings.iter().any(|f| f.category == SENSITIVE
        && f.span == refund.span
        && f.rule.starts_with("public_group/")));
}

#[test]
fn ordinary_group_announcements_are_sent() {
    for text in [
        "春节期间（2月8日-2月17日）物流停运，节后陆续发货，请大家谅解。",
        "@所有人 明天上午9点到11点系统升级，期间无法在线预约，请大家错开时间。",
        "新来的朋友欢迎入群～有问题可以直接@客服小林，工作日一般10分钟内回复。",
        "Good morning all, the service centre will be closed on Monday for the public holiday.",
        "Reminder to the group: please send documents in a private chat, to keep your information safe.",
    ] {
        let a = check(text, Audience::PublicGroup, IdentityStatus::Unknown);
        assert_eq!(a.verdict, Verdict::Send, "{text}: {:?}", a.findings);
    }
}
