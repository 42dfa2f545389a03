//! A progress bar on stderr for long runs, shown only on a terminal and never in CI, so logs and
//! pipes get no cursor movements.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::source::{Progress, ProgressSink};

/// Whether progress is drawn: stderr is a terminal that can redraw a line, and no `CI`
/// variable says the run is logged.
pub fn wanted(stderr_is_terminal: bool, ci: Option<&str>, term: Option<&str>) -> bool {
    stderr_is_terminal && ci.is_none_or(str::is_empty) && term != Some("dumb")
}

struct Bar(ProgressBar);

impl ProgressSink for Bar {
    fn stage(&self, name: &'static str, total: usize) {
        // The name first: a frame drawn between these calls shows the new stage.
        self.0.set_message(name);
        self.0.set_position(0);
        self.0.set_length(total as u64);
    }

    fn tick(&self) {
        self.0.inc(1);
    }
}

/// The bar of one run; dropping it clears the line, so the report starts on a clean one.
pub struct Shown(Option<ProgressBar>);

impl Shown {
    /// A bar when [`wanted`], and the progress to hand to the engine.
    pub fn start() -> (Shown, Progress) {
        let ci = std::env::var("CI").ok();
        let term = std::env::var("TERM").ok();
        if !wanted(
            std::io::stderr().is_terminal(),
            ci.as_deref(),
            term.as_deref(),
        ) {
            return (Shown(None), Progress::default());
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:9} {bar:30} {pos}/{len} {elapsed}")
                .expect("a valid template"),
        );
        bar.set_message("finding");
        bar.enable_steady_tick(Duration::from_millis(120));
        let progress = Progress::new(Arc::new(Bar(bar.clone())));
        (Shown(Some(bar)), progress)
    }
}

impl Drop for Shown {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_on_a_terminal_outside_ci() {
        assert!(wanted(true, None, Some("xterm-256color")));
        assert!(wanted(true, Some(""), None));
        assert!(!wanted(false, None, Some("xterm")));
        assert!(!wanted(true, Some("true"), Some("xterm")));
        assert!(!wanted(true, Some("1"), None));
        assert!(!wanted(true, None, Some("dumb")));
    }
}
