//! `ResourceEdit::from_str` on arbitrary strings, then applied to a few current values: never
//! panics (errors are fine).
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
        for current in ["0", "1", "250m", "512Mi", "8Ei", "1e-9"] {
            let current = Quantity::from_str(current).ok();
            for resource in ["memory", "cpu", "ephemeral-storage"] {
                let _ = edit.apply(current.as_ref(), resource);
            }
        }
        let _ = edit.apply(None, "memory");
    }
});
