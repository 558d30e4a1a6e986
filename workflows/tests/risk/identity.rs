//! Identity before context: customer-specific progress, amounts and personal data wait for
//! review until identity is confirmed; requests for identifying information and
//! public-knowledge answers do not.

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{Audience, Category, Verdict};

use crate::support::check;

const UNCONFIRMED: [IdentityStatus; 3] = [
    IdentityStatus::Unknown,
    IdentityStatus::Claimed,
    IdentityStatus::Failed,
];

fn held_for_identity(text: &str, identity: IdentityStatus) -> bool {
    check(text, Audience::CustomerPrivate, identity)
        .categories()
        .contains(&Category::UncertainIdentity)
}

#[test]
fn customer_specific_progress_is_held_until_identity_is_confirmed() {
    for text in [
        "您的订单已经发货了，预计明天下午送达。",
        "查到您的包裹目前在上海转运中心，运单号YT8812345678。",
        "Your order #58213 shipped this morning.",
        "According to our records, your subscription renews on 1 July.",
        "Your claim has been approved and the technician is booked for 10am tomorrow.",
    ] {
        for identity in UNCONFIRMED {
            let a = check(text, Audience::CustomerPrivate, identity);
            assert!(
                a.categories().contains(&Category::UncertainIdentity),
                "{identity}: {text}"
            );
            assert_eq!(a.verdict, Verdict::Review);
        }
        let confirmed = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
        assert_eq!(
            confirmed.verdict,
            Verdict::Send,
            "{text}: {:?}",
            confirmed.findings
        );
    }
}

#[test]
fn personal_data_is_held_before_confirmation_and_names_its_source_rule() {
    let text = "师傅的联系电话是13912345678，邮箱 j.smith@example.com。";
    let a = check(text, Audience::CustomerPrivate, IdentityStatus::Unknown);
    let gated: Vec<(&str, &str)> = a
        .findings
        .iter()
        .filter(|f| f.category == Category::UncertainIdentity)
        .map(|f| (f.rule.as_str(), f.matched.as_str()))
        .collect();
    // The number is both a phone number and a long bare number; one finding reports it.
    assert!(
        gated
            .iter()
            .any(|&(rule, m)| rule.starts_with("identity_gate/specific.") && m == "13912345678"),
        "{gated:?}"
    );
    assert!(
        gated.contains(&("identity_gate/specific.email", "j.smith@example.com")),
        "{gated:?}"
    );
    assert!(held_for_identity(
        "您预留的手机号是138****5521，对吗？",
        IdentityStatus::Claimed
    ));
}

#[test]
fn a_request_for_identifying_information_is_not_held() {
    for text in [
        "麻烦提供一下您的订单号，我这边帮您查一下物流。",
        "您好，为了帮您查询进度，请提供一下下单时的手机号或者订单号。",
        "请问您的工单号是多少呢？在短信通知里可以找到。",
        "为了保护您的账户安全，查询前需要先核实一下身份，请告诉我收件人姓名和手机号后四位。",
        "Could you please share your order number so I can look into this for you?",
        "Please reply with the last four digits of the phone number on your order.",
        "To help me find your booking, can you tell me the phone number or email you used?",
    ] {
        let a = check(text, Audience::CustomerPrivate, IdentityStatus::Unknown);
        assert_eq!(a.verdict, Verdict::Send, "{text}: {:?}", a.findings);
    }
}

#[test]
fn public_knowledge_answers_are_sent_before_confirmation() {
    for text in [
        "满199元包邮，不满的话运费是10元。",
        "一般下单后48小时内发货，偏远地区可能会晚一两天。",
        "门店地址在徐汇区漕溪北路398号，地铁1号线徐家汇站步行5分钟就到。",
        "A standard deep clean costs $120 for up to two bedrooms.",
        "Standard delivery usually takes 3-5 business days.",
    ] {
        let a = check(text, Audience::CustomerPrivate, IdentityStatus::Unknown);
        assert_eq!(a.verdict, Verdict::Send, "{text}: {:?}", a.findings);
    }
}

#[test]
fn an_amount_addressed_to_the_reader_is_customer_specific() {
    for text in [
        "您这次一共是80元，到时候给师傅就行。",
        "Your total comes to $45 this time.",
    ] {
        assert!(held_for_identity(text, IdentityStatus::Unknown), "{text}");
        assert!(
            !held_for_identity(text, IdentityStatus::Confirmed),
            "{text}"
        );
    }
}

#[test]
fn confirming_receipt_of_what_the_customer_sent_is_not_held() {
    for text in [
        "您的材料我们已经收到了，审核一般需要1-3个工作日。",
        "Thanks, we've received your documents and will go through them within 2 days.",
        "Your feedback has been passed to the team, thank you.",
    ] {
        assert!(!held_for_identity(text, IdentityStatus::Unknown), "{text}");
    }
}
