//! Command-line parsing shared by the examples, on top of `clap`. Included
//! with `#[path = "common/cli.rs"] mod cli;`.

use clap::Parser;
use clap::error::{ContextKind, ContextValue};

/// Parses the process arguments into `T`. `--help` prints the help and
/// exits with status 0; a mistake (unknown flag, missing value, a value that
/// does not parse or is out of range) prints what is wrong and the usage
/// line, and exits with status 2.
///
/// Plain `T::parse()` shows the usage line only for some mistakes; this
/// adds it to the others.
pub fn parse<T: Parser>() -> T {
    T::try_parse().unwrap_or_else(|mut error| {
        if error.use_stderr() && error.get(ContextKind::Usage).is_none() {
            let usage = T::command().render_usage();
            error.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
        }
        error.exit()
    })
}
