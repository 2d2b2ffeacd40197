//! `Quantity::from_str` on arbitrary strings: never panics; what parses prints back to a
//! string that parses to the same value.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use runbook::quantity::Quantity;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = Quantity::from_str(text) {
        let printed = q.to_string();
        let again = Quantity::from_str(&printed)
            .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which does not parse: {e}"));
        assert_eq!(again, q, "{text:?} → {printed:?}");
    }
});
