//! `ResourceEdit::from_str` on arbitrary strings: never panics; what parses prints back to a
//! string that parses to the same edit, and applies to a few current values without panicking
//! (errors are fine).
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use runbook::quantity::Quantity;
use runbook::resize_edit::ResourceEdit;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(edit) = ResourceEdit::from_str(text) {
        let printed = edit.to_string();
        let again = ResourceEdit::from_str(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
        assert_eq!(again, edit, "{text:?} → {printed:?}");
        for current in ["0", "1", "250m", "512Mi", "8Ei", "1e-9"] {
            let current = Quantity::from_str(current).ok();
            for resource in ["memory", "cpu", "ephemeral-storage"] {
                let _ = edit.apply(current.as_ref(), resource);
            }
        }
        let _ = edit.apply(None, "memory");
    }
});
