//! Bounded fuzzing of the quantity and relative-edit parsers with hostile strings, as a normal
//! test (the cargo-fuzz targets in shared/fuzz need nightly features; CI runs this instead):
//! nothing panics, and what parses prints back to a string that parses to the same value.

use std::str::FromStr;

use proptest::prelude::*;
use runbook::quantity::Quantity;
use runbook::resize_edit::{ReplicaEdit, ResourceEdit};

/// Strings shaped like quantities and edits (signs, digits, dots, exponents, suffixes,
/// factors, percentages), long and short, besides arbitrary text.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-+x*]?[0-9]{0,30}(\\.[0-9]{0,30})?([eE][-+]?[0-9]{0,6})?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|%)?",
        "[-+x*%.0-9eEKMGTPiu ]{0,40}",
        // Long fractions, where printing and parsing disagree most easily.
        "[-+x]?[0-9]{0,3}\\.[0-9]{12,22}%?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn quantities_never_panic_and_print_back(text in hostile()) {
        if let Ok(q) = Quantity::from_str(&text) {
            let printed = q.to_string();
            let again = Quantity::from_str(&printed);
            prop_assert_eq!(again, Ok(q), "{:?} printed as {:?}", text, printed);
        }
    }

    #[test]
    fn resource_edits_never_panic_and_print_back(text in hostile()) {
        if let Ok(edit) = ResourceEdit::from_str(&text) {
            let printed = edit.to_string();
            let again = ResourceEdit::from_str(&printed);
            prop_assert_eq!(again, Ok(edit), "{:?} printed as {:?}", text, printed);
            for current in ["1", "250m", "512Mi", "8Ei"] {
                let current = Quantity::from_str(current).ok();
                let _ = edit.apply(current.as_ref(), "memory");
                let _ = edit.apply(current.as_ref(), "cpu");
            }
        }
    }

    #[test]
    fn replica_edits_never_panic(text in hostile(), current in any::<i32>()) {
        if let Ok(edit) = ReplicaEdit::from_str(&text) {
            let _ = edit.apply(current);
        }
    }
}
