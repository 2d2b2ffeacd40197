//! The rollout follower: watch a Deployment or StatefulSet and the pods of its newest
//! revision until the rollout completes, fails (with its cause) or times out.

pub mod assess;
pub mod follower;
mod progress;

pub use assess::{
    AssessContext, Assessment, DEFAULT_UNSCHEDULABLE_GRACE, RolloutFailure, assess,
    assess_statefulset,
};
pub use follower::{RolloutFollower, RolloutOutcome};
