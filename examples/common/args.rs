//! A tiny `--name value` command-line reader shared by the examples, so that
//! they stay plain Rust with no argument-parsing crate. Included with
//! `#[path = "common/args.rs"] mod args;`.

use std::str::FromStr;

/// The arguments not read yet, and the usage text to show on `--help` or on
/// a mistake.
pub struct Args {
    rest: Vec<String>,
    usage: &'static str,
}

impl Args {
    /// Reads the process arguments; prints `usage` and exits on `-h`/`--help`.
    pub fn from_env(usage: &'static str) -> Args {
        let rest: Vec<String> = std::env::args().skip(1).collect();
        if rest.iter().any(|a| a == "-h" || a == "--help") {
            println!("{usage}");
            std::process::exit(0);
        }
        Args { rest, usage }
    }

    /// `true` if `--name` was given.
    pub fn flag(&mut self, name: &str) -> bool {
        let found = self.rest.iter().position(|a| a == name);
        found.map(|i| self.rest.remove(i)).is_some()
    }

    /// The value after `--name`, parsed; `None` if `--name` was not given.
    pub fn opt<T: FromStr>(&mut self, name: &str) -> Option<T> {
        let i = self.rest.iter().position(|a| a == name)?;
        self.rest.remove(i);
        if i >= self.rest.len() {
            self.fail(&format!("{name} needs a value"));
        }
        let value = self.rest.remove(i);
        match value.parse() {
            Ok(v) => Some(v),
            Err(_) => self.fail(&format!("{name}: cannot read {value:?}")),
        }
    }

    /// The value after `--name`, or `default`.
    pub fn get<T: FromStr>(&mut self, name: &str, default: T) -> T {
        self.opt(name).unwrap_or(default)
    }

    /// A comma-separated list after `--name` (`--workers 3,4,5`), or `default`.
    pub fn list<T: FromStr + Clone>(&mut self, name: &str, default: &[T]) -> Vec<T> {
        let Some(text) = self.opt::<String>(name) else {
            return default.to_vec();
        };
        text.split(',')
            .map(|part| match part.trim().parse() {
                Ok(v) => v,
                Err(_) => self.fail(&format!("{name}: cannot read {part:?}")),
            })
            .collect()
    }

    /// Exits with the usage text if an argument was not understood.
    pub fn finish(self) {
        if let Some(arg) = self.rest.first() {
            self.fail(&format!("unknown argument {arg:?}"));
        }
    }

    fn fail(&self, message: &str) -> ! {
        eprintln!("error: {message}\n\n{}", self.usage);
        std::process::exit(2);
    }
}
