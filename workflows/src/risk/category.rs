//! What the gate can find in a draft ([`Category`]) and what it decides ([`Verdict`]).

use crate::model::named_enum;

named_enum!(
    /// Why a draft must wait for a human: the brief's high-risk categories, with "account,
    /// payment, privacy or high-value rights" split into its four parts, plus [`InDoubt`] for
    /// drafts the gate cannot judge (too long, a language its lexicons do not cover).
    ///
    /// [`InDoubt`]: Category::InDoubt
    Category, "risk category" {
        /// Offering or discussing compensation: vouchers, credits, waived fees, paying damages.
        Compensation => "compensation",
        /// Promising an outcome or a deadline: "guarantee", "一定会", "100%".
        Commitment => "commitment",
        /// Granting, refusing or explaining a refund.
        Refund => "refund",
        /// Liability, legal threats, disagreement about what happened.
        Dispute => "dispute",
        /// Complaints, escalations, regulators (12315, consumer councils).
        Complaint => "complaint",
        /// Reviews and public posts: bad ratings, asking to change a review, paid reviews.
        NegativeReview => "negative_review",
        /// A public group message with customer-specific, negative or sensitive content.
        SensitivePublicGroupReply => "sensitive_public_group_reply",
        /// Customer-specific progress, amounts or personal data while identity is not confirmed.
        UncertainIdentity => "uncertain_identity",
        /// A partner's request that had to be rewritten for the customer (caller's flag).
        PartnerComplexRewrite => "partner_complex_rewrite",
        /// Back-office verification disagrees with the customer's description.
        VerificationConflict => "verification_conflict",
        /// Account security and changes: passwords, codes, freezing, closing, merging.
        Account => "account",
        /// Payments, transfers, cards, charges, invoices.
        Payment => "payment",
        /// Personal data: ID numbers, leaks, other people's data, deletion requests.
        Privacy => "privacy",
        /// High-value rights: large amounts, memberships, extended warranties, credit limits.
        HighValueRights => "high_value_rights",
        /// The gate cannot judge the draft with confidence, so a human must.
        InDoubt => "in_doubt",
    }
);

named_enum!(
    /// The gate's decision for one draft.
    Verdict, "verdict" {
        /// No finding: the draft may go out without a human decision (if its action's
        /// automation mode allows it).
        Send => "send",
        /// At least one finding: the draft waits for a human decision.
        Review => "review",
    }
);
