//! The progress bar a long command shows on stderr, and printing above it: a line written
//! while the bar is drawn would scroll a copy of the bar with it.

use std::sync::{Mutex, PoisonError};

use indicatif::{ProgressBar, ProgressDrawTarget};

/// The bar on screen, if any: what [`suspend`] hides while a line is printed.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A bar of `len` steps (unknown when `None`) on stderr, or a hidden one under `--json` or
/// when stderr is not a terminal. Lines printed through [`suspend`] go above it until it is
/// finished.
pub(crate) fn on_stderr(json: bool, len: Option<u64>) -> ProgressBar {
    use std::io::IsTerminal as _;
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    shown(ProgressBar::with_draw_target(
        len,
        ProgressDrawTarget::stderr(),
    ))
}

/// Makes `bar` the one [`suspend`] hides.
fn shown(bar: ProgressBar) -> ProgressBar {
    *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
    bar
}

/// Runs `print` with the bar cleared, then draws the bar again below what it printed.
pub(crate) fn suspend<R>(print: impl FnOnce() -> R) -> R {
    let bar = SHOWN
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .filter(|bar| !bar.is_finished());
    match bar {
        Some(bar) => bar.suspend(print),
        None => print(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use indicatif::TermLike;

    use super::*;

    /// A terminal that records what is drawn and cleared, in order.
    #[derive(Debug, Default, Clone)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl Screen {
        fn push(&self, what: String) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(what);
        }

        fn events(&self) -> Vec<String> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> std::io::Result<()> {
            self.push(format!("draw {line}"));
            Ok(())
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.push(format!("draw {text}"));
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.push("clear".to_owned());
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_is_printed_with_the_bar_cleared_then_the_bar_is_drawn_again() {
        let screen = Screen::default();
        let bar = shown(ProgressBar::with_draw_target(
            Some(10),
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
        ));
        bar.set_message("users");
        bar.set_position(3);
        suspend(|| screen.push("LINE".to_owned()));
        let events = screen.events();
        let line = events.iter().position(|e| e == "LINE").unwrap_or(0);
        assert!(
            events
                .get(..line)
                .is_some_and(|before| before.last() == Some(&"clear".to_owned())),
            "cleared just before the line: {events:?}"
        );
        assert!(
            events
                .get(line + 1..)
                .is_some_and(|after| after.iter().any(|e| e.starts_with("draw"))),
            "drawn again after it: {events:?}"
        );

        bar.finish_and_clear();
        let before = screen.events().len();
        suspend(|| screen.push("AFTER".to_owned()));
        assert_eq!(
            screen.events().len(),
            before + 1,
            "a finished bar is left alone"
        );
    }
}
