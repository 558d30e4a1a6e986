//! Each rule family of the shipped policy, in Chinese and English, and where findings point.

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{Audience, Category, Verdict};

use crate::support::{check, found, matched};

#[test]
fn each_category_is_found_in_chinese_and_in_english() {
    let cases = [
        ("这次给您补偿一张50元优惠券。", Category::Compensation),
        (
            "We'd like to compensate you with a voucher.",
            Category::Compensation,
        ),
        ("我跟您保证明天一定送到。", Category::Commitment),
        (
            "I promise it will be fixed by Friday.",
            Category::Commitment,
        ),
        ("退款已经提交，原路退回。", Category::Refund),
        ("Your refund has been processed.", Category::Refund),
        ("如果您要起诉，我们也尊重您的选择。", Category::Dispute),
        (
            "We don't agree that our technician caused the damage.",
            Category::Dispute,
        ),
        ("您的投诉我们已经收到了。", Category::Complaint),
        ("I'll escalate this to my supervisor.", Category::Complaint),
        ("能不能麻烦您把差评删一下？", Category::NegativeReview),
        (
            "Would you consider updating your review?",
            Category::NegativeReview,
        ),
        (
            "系统记录显示已经签收，和您说的不一致。",
            Category::VerificationConflict,
        ),
        (
            "The serial number doesn't match our records.",
            Category::VerificationConflict,
        ),
        ("您的账号被临时冻结了。", Category::Account),
        ("Please reset your password.", Category::Account),
        ("尾款请转到对公账户。", Category::Payment),
        (
            "We've charged the fee to the card on file.",
            Category::Payment,
        ),
        ("关于个人信息泄露的问题我们已经排查。", Category::Privacy),
        (
            "We can't share another customer's phone number.",
            Category::Privacy,
        ),
        ("您的终身会员资格已经恢复。", Category::HighValueRights),
        (
            "Your extended warranty is now active.",
            Category::HighValueRights,
        ),
    ];
    for (text, category) in cases {
        assert!(
            found(text).contains(&category),
            "{category} not found in {text:?}"
        );
    }
}

#[test]
fn a_span_points_at_the_matched_chinese_text() {
    let text = "非常抱歉，我们会给您赔偿。";
    let a = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
    let finding = a
        .findings
        .iter()
        .find(|f| f.category == Category::Compensation)
        .expect("compensation");
    let (start, end) = finding.span.expect("a span");
    assert_eq!(start, text.find("赔偿").expect("in text"));
    assert_eq!(end, start + "赔偿".len());
    assert_eq!(&text[start..end], "赔偿");
    assert_eq!(finding.matched, "赔偿");
    assert_eq!(finding.rule, "compensation.zh");
}

#[test]
fn full_width_text_is_matched_and_spans_point_at_what_was_written() {
    let text = "亲，ｒｅｆｕｎｄ已经提交，￥１，２００原路返回。";
    let a = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
    assert_eq!(matched(&a, Category::Refund)[0], "ｒｅｆｕｎｄ");
    assert_eq!(matched(&a, Category::HighValueRights), vec!["￥１，２００"]);
    for f in &a.findings {
        let (s, e) = f.span.expect("span");
        assert_eq!(&text[s..e], f.matched);
    }
}

#[test]
fn english_terms_match_whole_words_and_prefix_terms_match_inflections() {
    assert!(!found("Please check the issue tracker.").contains(&Category::Dispute));
    assert!(found("They said they would sue us.").contains(&Category::Dispute));
    assert!(found("The amount was REFUNDED yesterday.").contains(&Category::Refund));
    assert!(found("Refunds take five days.").contains(&Category::Refund));
    assert!(found("亲，refund已经给您提交了。").contains(&Category::Refund));
}

#[test]
fn negated_high_risk_words_still_go_to_review() {
    for text in [
        "Unfortunately we cannot refund opened items.",
        "定制类商品拆封以后是不支持退款的。",
        "For security, we'll never ask for your password over chat.",
        "我们不能保证明天到。",
    ] {
        let a = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
        assert_eq!(a.verdict, Verdict::Review, "{text}");
    }
}

#[test]
fn money_is_a_high_value_right_from_the_policy_threshold_up() {
    let high = |text: &str| found(text).contains(&Category::HighValueRights);
    assert!(!high("这次的费用是999元。"));
    assert!(high("这次的费用是1000元。"));
    assert!(high("总价￥5,680，确认后发货。"));
    assert!(high("装修尾款两万三千元。"));
    assert!(high("放款金额是80万。"));
    assert!(high("The property deposit of RMB 20,000 is held."));
    assert!(!high("The fee is $149."));
    assert!(high("The fee is $150."));
    assert!(high("It costs USD 2k."));
    assert!(high("We approved 15,000 CNY."));
}

#[test]
fn id_numbers_and_card_numbers_are_found_with_their_spans() {
    let text = "您的身份证号是110105198807123456，卡号6225 8812 3456 7890。";
    let a = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
    assert!(matched(&a, Category::Privacy).contains(&"110105198807123456".to_owned()));
    assert!(
        matched(&a, Category::Payment)
            .iter()
            .any(|m| m.contains("6225 8812 3456 7890"))
    );
}

#[test]
fn findings_are_sorted_by_span_and_the_gate_is_deterministic() {
    let text = "退款已经提交了，我保证明天到账，差评就别给了。";
    let first = check(text, Audience::CustomerPrivate, IdentityStatus::Unknown);
    let second = check(text, Audience::CustomerPrivate, IdentityStatus::Unknown);
    assert_eq!(first, second);
    let spans: Vec<(usize, usize)> = first.findings.iter().filter_map(|f| f.span).collect();
    assert!(spans.windows(2).all(|w| w[0] <= w[1]), "{spans:?}");
    assert!(first.findings.len() >= 3);
}

#[test]
fn a_match_inside_a_longer_match_of_the_same_category_is_reported_once() {
    let a = check(
        "买贵了包退差价。",
        Audience::CustomerPrivate,
        IdentityStatus::Confirmed,
    );
    assert_eq!(matched(&a, Category::Refund), vec!["退差价"]);
    assert_eq!(matched(&a, Category::Commitment), vec!["包退"]);
}

#[test]
fn ordinary_replies_are_sent() {
    for text in [
        "您好，您发来的营业执照和身份证照片都已收到，我们这边开始审核了。",
        "温馨提醒：您预约的上门服务在明天上午9:00-11:00，师傅出发前会电话联系您。",
        "Our opening hours are 9am to 6pm, Monday to Saturday.",
        "The job is done! Could you take a minute to rate the service in the app?",
    ] {
        let a = check(text, Audience::CustomerPrivate, IdentityStatus::Confirmed);
        assert_eq!(a.verdict, Verdict::Send, "{text}: {:?}", a.findings);
        assert!(a.findings.is_empty());
    }
}
