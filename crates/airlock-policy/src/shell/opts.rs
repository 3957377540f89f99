//! Reading a program's options well enough to find its operands.
//!
//! Each program that matters is described by the options that take a value
//! ([`Spec`]); everything else starting with `-` is taken as a flag. When a
//! program is not fully described, that errs toward reading a value as an
//! operand: a wrong extra host or program is visible, a missed one is not.

/// Which options of a program take a value.
pub(crate) struct Spec {
    /// Short options taking a value, as one string (`"uC"`).
    pub short: &'static str,
    /// Long options taking a value when not written `--opt=value`,
    /// separated by white space (a string keeps long tables compact).
    pub long: &'static str,
    /// Options may follow operands (GNU-style permutation; `curl`, `scp`).
    /// Otherwise the first operand ends the options (`sudo`, `env`).
    pub permute: bool,
    /// `NAME=value` words before the command are skipped (`env`, `sudo`).
    pub assignments: bool,
    /// A lone `-` is an option (`env -`, `su -`), not an operand.
    pub dash_is_flag: bool,
}

pub(crate) const NO_VALUES: Spec = Spec {
    short: "",
    long: "",
    permute: false,
    assignments: false,
    dash_is_flag: false,
};

/// The result of reading an argument list.
#[derive(Debug, Default)]
pub(crate) struct Scan<'a> {
    /// Indices of the operands (without `permute`, only the first).
    pub operands: Vec<usize>,
    /// Options given a value: the key is the short letter (`"u"`) or the
    /// long name with its dashes (`"--user"`).
    pub values: Vec<(String, &'a str)>,
    /// Short flags and long options given without a value.
    pub flags: Vec<String>,
}

impl<'a> Scan<'a> {
    /// The index where the wrapped command starts (the first operand).
    pub fn rest(&self) -> Option<usize> {
        self.operands.first().copied()
    }

    pub fn values_of<'s>(&'s self, keys: &'s [&str]) -> impl Iterator<Item = &'a str> + 's {
        self.values
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| *v)
    }

    pub fn has_flag(&self, keys: &[&str]) -> bool {
        self.flags.iter().any(|f| keys.contains(&f.as_str()))
    }
}

pub(crate) fn scan<'a>(args: &'a [String], spec: &Spec) -> Scan<'a> {
    let mut out = Scan::default();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        i += 1;
        if arg == "--" {
            let end = if spec.permute {
                args.len()
            } else {
                (i + 1).min(args.len())
            };
            out.operands.extend(i..end);
            return out;
        }
        if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((name, value)) => out.values.push((format!("--{name}"), value)),
                None if spec.long.split_whitespace().any(|l| l == arg) => {
                    if let Some(value) = args.get(i) {
                        out.values.push((arg.clone(), value));
                        i += 1;
                    }
                }
                None => out.flags.push(arg.clone()),
            }
            continue;
        }
        if let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, letter) in cluster.char_indices() {
                if spec.short.contains(letter) {
                    let attached = &cluster[at + letter.len_utf8()..];
                    if !attached.is_empty() {
                        out.values.push((letter.to_string(), attached));
                    } else if let Some(value) = args.get(i) {
                        out.values.push((letter.to_string(), value));
                        i += 1;
                    }
                    break;
                }
                out.flags.push(letter.to_string());
            }
            continue;
        }
        if spec.dash_is_flag && arg == "-" {
            out.flags.push(arg.clone());
            continue;
        }
        if spec.assignments && super::is_assignment(arg, arg.len()) {
            continue;
        }
        out.operands.push(i - 1);
        if !spec.permute {
            return out;
        }
    }
    out
}
