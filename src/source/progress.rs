//! Progress of a long run, for a display the caller provides (the CLI draws one on a
//! terminal). A run is a sequence of stages, each with a known number of steps; without a
//! display every call does nothing.

use std::fmt;
use std::sync::Arc;

/// Receives a run's progress; called from the reading threads too.
pub trait ProgressSink: Send + Sync {
    /// A stage starts: `name` (`reading`, `checking`) of `total` steps.
    fn stage(&self, name: &'static str, total: usize);
    /// One step of the current stage is done.
    fn tick(&self);
}

#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn ProgressSink>>);

impl Progress {
    pub fn new(sink: Arc<dyn ProgressSink>) -> Self {
        Progress(Some(sink))
    }

    pub fn stage(&self, name: &'static str, total: usize) {
        if let Some(s) = &self.0 {
            s.stage(name, total);
        }
    }

    pub fn tick(&self) {
        if let Some(s) = &self.0 {
            s.tick();
        }
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(shown)"
        } else {
            "Progress(silent)"
        })
    }
}
