//! Command-line parsing shared by the examples, on top of `clap`. Included
//! with `#[path = "common/cli.rs"] mod cli;`.

use std::ops::RangeInclusive;

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

/// Reads a comma-separated list of whole numbers, each in `range`, for a
/// flag such as `--threads 1,4,16`; `what` names one of them in the error
/// ("'x' is not a thread count from 1 to 256").
#[allow(dead_code)] // not every example takes a list
pub fn whole_numbers(
    text: &str,
    range: RangeInclusive<usize>,
    what: &str,
) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|part| match part.trim().parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(format!(
                "'{part}' is not {what} from {} to {}",
                range.start(),
                range.end()
            )),
        })
        .collect()
}
