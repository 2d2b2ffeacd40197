//! Pod analysis: owner chain, container states, the `kubectl get pods` STATUS column,
//! effective requests, and the scheduler's FailedScheduling message broken down by cause.
//! Pure functions over fetched objects.

pub mod containers;
pub mod owner;
pub mod requests;
pub mod scheduling;
pub mod summary;

pub use containers::{ContainerSummary, OOM_KILLED, Termination, container_summaries};
pub use owner::{
    MIRROR_POD_ANNOTATION, Owner, OwnerKind, POD_TEMPLATE_HASH_LABEL, controller_ref,
    is_daemonset_pod, is_mirror_pod, owner_of, resolve_job,
};
pub use requests::{CpuMemory, pod_limits, pod_requests};
pub use scheduling::{CauseCount, SchedulingCause, SchedulingFailure, parse_failed_scheduling};
pub use summary::{PodSummary, condition, is_pod_ready, summarize};
