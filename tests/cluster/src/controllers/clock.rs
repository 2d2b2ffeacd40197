//! The time controllers see: the system clock, or a manual one tests move forward.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;

/// Where controllers read the current time.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// Wall-clock time.
    #[default]
    System,
    /// A time that only moves when told to (tests).
    Manual(Arc<Mutex<Timestamp>>),
}

impl Clock {
    /// A manual clock starting at `start`.
    pub fn manual(start: Timestamp) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Manual(time) => *time.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Moves a manual clock forward by `seconds` (no effect on the system clock).
    pub fn advance(&self, seconds: i64) {
        if let Clock::Manual(time) = self {
            let mut time = time.lock().unwrap_or_else(|p| p.into_inner());
            *time = super::objects::plus_seconds(*time, seconds);
        }
    }
}
