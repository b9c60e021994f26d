//! The psw type as the configuration sees it: its spec (defaults, rules), its
//! parameters and its detail codes. The probe that runs the check is
//! `clp_monitors::psw`, outside this crate, so validating a configuration links no
//! client.

use super::params::ParamReader;
use super::spec::{DefaultRecovery, MonitorSpec, TargetRule};

/// The psw type.
pub static SPEC: MonitorSpec = MonitorSpec {
    kind: "psw",
    interval: 5.0,
    timeout: 60.0,
    retry: 0,
    default_comment: "",
    forced_timing: None,
    target_rule: TargetRule::Optional,
    default_recovery: DefaultRecovery::Target,
    check_parameters: |parameters| parse(parameters).1,
};

const KEYS: &[&str] = &["processname", "processnum"];

/// Detail code: fewer processes than `processnum`, some seen to die.
pub const PROCESS_DOWN: u32 = 11;
/// Detail code: fewer processes than `processnum`.
pub const TOO_FEW: u32 = 12;

/// The parameters of a psw monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PswParams {
    /// The pattern, as configured.
    pub processname: String,
    /// The fewest processes that is Normal.
    pub processnum: usize,
}

/// Reads the parameters; the problems are empty when they are valid.
pub fn parse(table: &toml::Table) -> (PswParams, Vec<String>) {
    let mut reader = ParamReader::new(table);
    let processname = reader.required_string("processname");
    if table.contains_key("processname") {
        if processname.is_empty() {
            reader.problem("processname", "the pattern is empty");
        } else if let Err(error) = Wildcard::new(&processname) {
            reader.problem("processname", error);
        }
    }
    let processnum = reader.integer("processnum", 1, 1, 999) as usize;
    let params = PswParams {
        processname,
        processnum,
    };
    (params, reader.finish(KEYS))
}

/// One element of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    fn matches_one(&self, c: char) -> bool {
        match self {
            Token::Literal(literal) => *literal == c,
            Token::AnyOne => true,
            Token::AnyRun => false,
            Token::Set { negated, ranges } => {
                ranges.iter().any(|(low, high)| (*low..=*high).contains(&c)) != *negated
            }
        }
    }
}

/// A shell-style wildcard pattern matched against a whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    tokens: Vec<Token>,
    /// The literal characters the pattern starts with: a text without them is refused
    /// before the full match (most rows of a process table, for most patterns).
    prefix: String,
    /// The literal characters the pattern ends with.
    suffix: String,
    /// Whether the pattern is the prefix, one `*` and the suffix (`*/w00001.pid`,
    /// `/usr/sbin/httpd*`, `*java*`): a text with both that is long enough for both matches.
    one_run: bool,
}

impl Wildcard {
    /// Parses `pattern`; an unclosed `[` or a trailing `\` is an error.
    pub fn new(pattern: &str) -> Result<Wildcard, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                '\\' => Token::Literal(
                    chars
                        .next()
                        .ok_or_else(|| format!("\"{pattern}\" ends with a lone \\"))?,
                ),
                '[' => Self::set(&mut chars).ok_or_else(|| {
                    format!("\"{pattern}\" has a [ without its ]; write \\[ for a literal [")
                })?,
                other => Token::Literal(other),
            };
            tokens.push(token);
        }
        let literal = |token: &Token| match token {
            Token::Literal(c) => Some(*c),
            _ => None,
        };
        let prefix = tokens.iter().map_while(literal).collect();
        let mut suffix: Vec<char> = tokens.iter().rev().map_while(literal).collect();
        suffix.reverse();
        let one_run = tokens
            .iter()
            .filter(|token| **token == Token::AnyRun)
            .count()
            == 1
            && tokens
                .iter()
                .all(|token| matches!(token, Token::Literal(_) | Token::AnyRun));
        Ok(Wildcard {
            tokens,
            prefix,
            suffix: suffix.into_iter().collect(),
            one_run,
        })
    }

    /// The set after a `[`, up to its `]` (a `]` first in the set is literal).
    fn set(chars: &mut std::str::Chars<'_>) -> Option<Token> {
        let mut negated = false;
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let mut c = chars.next()?;
            if first && (c == '!' || c == '^') {
                negated = true;
                c = chars.next()?;
            }
            if c == ']' && !first {
                return Some(Token::Set { negated, ranges });
            }
            first = false;
            if c == '\\' {
                c = chars.next()?;
            }
            let mut lookahead = chars.clone();
            match (lookahead.next(), lookahead.next()) {
                (Some('-'), Some(high)) if high != ']' => {
                    chars.next();
                    chars.next();
                    ranges.push((c, high));
                }
                _ => ranges.push((c, c)),
            }
        }
    }

    /// The literal characters every matching text starts with (empty when the pattern
    /// starts with a wildcard).
    pub fn literal_prefix(&self) -> &str {
        &self.prefix
    }

    /// The literal characters every matching text ends with (empty when the pattern ends
    /// with a wildcard).
    pub fn literal_suffix(&self) -> &str {
        &self.suffix
    }

    /// Whether the whole `text` matches. Allocates nothing: a psw check matches every row
    /// of the process table.
    pub fn matches(&self, text: &str) -> bool {
        if !text.starts_with(&self.prefix) || !text.ends_with(&self.suffix) {
            return false;
        }
        if self.one_run {
            // The prefix and the suffix must not overlap; the `*` takes what lies between.
            return text.len() >= self.prefix.len() + self.suffix.len();
        }
        let pattern = &self.tokens;
        // `t` is a byte offset into `text`, always on a character boundary.
        let (mut t, mut p) = (0, 0);
        // Where the last `*` was and where the text it has not taken yet starts.
        let mut star: Option<(usize, usize)> = None;
        while let Some(c) = text[t..].chars().next() {
            if p < pattern.len() && pattern[p] == Token::AnyRun {
                star = Some((p, t));
                p += 1;
            } else if p < pattern.len() && pattern[p].matches_one(c) {
                p += 1;
                t += c.len_utf8();
            } else if let Some((star_p, star_t)) = star {
                // The `*` takes one more character and the rest is tried again.
                let taken = text[star_t..].chars().next().map_or(1, char::len_utf8);
                p = star_p + 1;
                t = star_t + taken;
                star = Some((star_p, t));
            } else {
                return false;
            }
        }
        pattern[p..].iter().all(|token| *token == Token::AnyRun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain recursive definition of a match, for patterns of literals, `?` and `*`.
    fn reference(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => (0..=text.len()).any(|taken| reference(rest, &text[taken..])),
            Some((first, rest)) => text
                .split_first()
                .is_some_and(|(c, text)| (*first == '?' || first == c) && reference(rest, text)),
        }
    }

    /// Every string of up to `length` characters from `alphabet`.
    fn all_strings(alphabet: &[char], length: usize) -> Vec<String> {
        let mut strings = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..length {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(last.iter().cloned());
        }
        strings
    }

    #[test]
    fn every_short_pattern_matches_as_the_definition_says() {
        let patterns = all_strings(&['a', 'b', '*', '?'], 5);
        let texts = all_strings(&['a', 'b'], 6);
        for pattern in &patterns {
            let wildcard = Wildcard::new(pattern).unwrap();
            let chars: Vec<char> = pattern.chars().collect();
            for text in &texts {
                let expected = reference(&chars, &text.chars().collect::<Vec<_>>());
                assert_eq!(wildcard.matches(text), expected, "{pattern:?} vs {text:?}");
            }
        }
    }
}
