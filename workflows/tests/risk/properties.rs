//! Properties over random drafts: the gate never panics, every span is a real slice of the
//! text, findings are sorted, the verdict follows the findings, and the same input always
//! gives the same answer.

use aijia_workflows::IdentityStatus;
use aijia_workflows::risk::{Audience, Draft, DraftFlags, Verdict, assess};
use proptest::prelude::*;

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("退款".to_owned()),
        Just("您的订单".to_owned()),
        Just("ｒｅｆｕｎｄ".to_owned()),
        Just("\u{200B}".to_owned()),
        Just("¥1,200".to_owned()),
        Just("两千五百块".to_owned()),
        Just("13912345678".to_owned()),
        Just("your order".to_owned()),
        Just("@王女士 ".to_owned()),
        Just("。".to_owned()),
        Just(". ".to_owned()),
        Just("😀".to_owned()),
        Just("请提供您的订单号".to_owned()),
        any::<char>().prop_map(String::from),
        "[a-z ]{1,8}",
        "[\u{4E00}-\u{4E20}]{1,4}",
    ]
}

fn audience() -> impl Strategy<Value = Audience> {
    prop::sample::select(Audience::ALL.to_vec())
}

fn identity() -> impl Strategy<Value = IdentityStatus> {
    prop::sample::select(IdentityStatus::ALL.to_vec())
}

proptest! {
    #[test]
    fn spans_are_slices_of_the_text_and_decisions_are_consistent(
        pieces in prop::collection::vec(piece(), 1..14),
        audience in audience(),
        identity in identity(),
        verification_conflict in any::<bool>(),
        partner_request_rewritten in any::<bool>(),
    ) {
        let text: String = pieces.concat();
        let flags = DraftFlags { verification_conflict, partner_request_rewritten };
        let Ok(draft) = Draft::new(text.clone(), audience, "reply", flags) else {
            return Ok(());
        };
        let policy = crate::support::policy();
        let a = assess(&draft, identity, policy);
        for f in &a.findings {
            if let Some((s, e)) = f.span {
                prop_assert!(s < e && e <= text.len());
                prop_assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
                prop_assert_eq!(&text[s..e], f.matched.as_str());
            }
        }
        let keys: Vec<_> = a.findings.iter().map(|f| (f.span.is_none(), f.span)).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        prop_assert_eq!(a.verdict == Verdict::Review, !a.findings.is_empty());
        prop_assert_eq!(&a, &assess(&draft, identity, policy));
        prop_assert_eq!(a.policy_version.as_str(), policy.version());
    }
}
