//! Brace expansion: `{curl,evil.example}` runs `curl evil.example`.
//!
//! Bash expands unquoted `{a,b}` lists and `{x..y}` sequences before it
//! runs anything, a classic way to hide a program name from text filters.
//! Only braces the lexer saw unquoted take part (their offsets come with
//! the word); `${…}` never does. The result is bounded: a word that would
//! expand past [`MAX_WORDS`] is refused rather than cut short, since the
//! part cut off could be the one that matters.

/// Most words one word may expand to.
pub(crate) const MAX_WORDS: usize = 1024;
/// Most bytes of intermediate words built while expanding one word.
const MAX_BYTES: usize = 4 << 20;

/// Expands `text`, whose unquoted `{`, `,` and `}` are at byte offsets
/// `braces` (ascending), building at most `budget` bytes of words (the
/// line's remaining analysis budget) besides the bounds of its own.
pub(crate) fn expand(text: &str, braces: &[usize], budget: usize) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    // Depth-first with an explicit stack (no recursion), in order.
    let mut stack = vec![(text.to_string(), braces.to_vec())];
    let (mut steps, mut bytes) = (0usize, 0usize);
    while let Some((text, braces)) = stack.pop() {
        steps += 1;
        bytes = bytes.saturating_add(text.len());
        if steps > 4 * MAX_WORDS || out.len() > MAX_WORDS || bytes > MAX_BYTES {
            return Err(format!(
                "brace expansion yields more than {MAX_WORDS} words"
            ));
        }
        if bytes > budget {
            return Err(super::TOO_COMPLEX.into());
        }
        match first_expansion(&text, &braces)? {
            None => {
                if !text.is_empty() {
                    out.push(text);
                }
            }
            Some(items) => stack.extend(items.into_iter().rev()),
        }
    }
    Ok(out)
}

type Item = (String, Vec<usize>);

/// The words that the first expandable brace of `text` yields, or `None`
/// when nothing in it expands.
fn first_expansion(text: &str, braces: &[usize]) -> Result<Option<Vec<Item>>, String> {
    let at = |i: usize| text.as_bytes().get(i).copied();
    // Match the braces in one pass (a `}` closes the latest open `{`; a
    // `,` belongs to the innermost one), then try pairs left to right.
    let mut open_stack: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut pairs = Vec::new();
    for (j, &p) in braces.iter().enumerate() {
        match at(p) {
            Some(b'{') => open_stack.push((j, Vec::new())),
            Some(b',') => {
                if let Some((_, commas)) = open_stack.last_mut() {
                    commas.push(j);
                }
            }
            Some(b'}') => {
                if let Some((k, commas)) = open_stack.pop() {
                    pairs.push((k, j, commas));
                }
            }
            _ => {}
        }
    }
    pairs.sort_unstable_by_key(|&(k, _, _)| k);
    for (k, close_k, commas) in pairs {
        let (Some(&open), Some(&close_at)) = (braces.get(k), braces.get(close_k)) else {
            continue;
        };
        // A sequence is at most three numbers: longer bodies are not one,
        // and looking at each would be quadratic in nested braces.
        let sequence = match text.get(open + 1..close_at) {
            Some(body) if commas.is_empty() && body.len() <= 64 => sequence(body)?,
            _ => None,
        };
        if commas.is_empty() && sequence.is_none() {
            continue;
        }
        let (Some(prefix), Some(suffix)) = (text.get(..open), text.get(close_at + 1..)) else {
            continue;
        };
        let before = &braces[..k];
        let after: Vec<usize> = braces[close_k + 1..]
            .iter()
            .map(|&p| p - (close_at + 1))
            .collect();
        let join = |middle: &str, middle_braces: &[usize]| -> Item {
            let mut word = String::with_capacity(prefix.len() + middle.len() + suffix.len());
            word.push_str(prefix);
            word.push_str(middle);
            word.push_str(suffix);
            let mut offsets = before.to_vec();
            offsets.extend(middle_braces.iter().map(|&p| p + open));
            offsets.extend(after.iter().map(|&p| p + open + middle.len()));
            (word, offsets)
        };
        if let Some(seq) = sequence {
            return Ok(Some(seq.iter().map(|s| join(s, &[])).collect()));
        }
        let mut bounds = vec![k];
        bounds.extend(&commas);
        bounds.push(close_k);
        let items = bounds
            .windows(2)
            .filter_map(|w| {
                let (from, to) = (braces[w[0]] + 1, braces[w[1]]);
                let inner: Vec<usize> = braces[w[0] + 1..w[1]].iter().map(|&p| p - from).collect();
                Some(join(text.get(from..to)?, &inner))
            })
            .collect();
        return Ok(Some(items));
    }
    Ok(None)
}

/// `x..y[..step]` over integers or single letters.
fn sequence(body: &str) -> Result<Option<Vec<String>>, String> {
    let parts: Vec<&str> = body.split("..").collect();
    let (from, to, step) = match parts.as_slice() {
        [from, to] => (*from, *to, 1i64),
        [from, to, step] => match step.parse::<i64>() {
            Ok(step) => (*from, *to, step.checked_abs().unwrap_or(1).max(1)),
            Err(_) => return Ok(None),
        },
        _ => return Ok(None),
    };
    let letters = |s: &str| {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Some(i64::from(u32::from(c))),
            _ => None,
        }
    };
    let (a, b, is_letters) = match (from.parse::<i64>(), to.parse::<i64>()) {
        (Ok(a), Ok(b)) => (a, b, false),
        _ => match (letters(from), letters(to)) {
            (Some(a), Some(b)) => (a, b, true),
            _ => return Ok(None),
        },
    };
    let count = a.abs_diff(b) / step.unsigned_abs() + 1;
    if count > MAX_WORDS as u64 {
        return Err(format!(
            "brace expansion yields more than {MAX_WORDS} words"
        ));
    }
    let width = if !is_letters && (has_zero_pad(from) || has_zero_pad(to)) {
        from.len().max(to.len())
    } else {
        0
    };
    let dir = if b >= a { step } else { -step };
    let mut out = Vec::new();
    let mut v = a;
    for _ in 0..count {
        out.push(if is_letters {
            u32::try_from(v)
                .ok()
                .and_then(char::from_u32)
                .map(String::from)
                .unwrap_or_default()
        } else {
            format!("{v:0width$}")
        });
        v = v.saturating_add(dir);
    }
    Ok(Some(out))
}

fn has_zero_pad(n: &str) -> bool {
    let digits = n.strip_prefix('-').unwrap_or(n);
    digits.len() > 1 && digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(text: &str) -> Vec<String> {
        let braces: Vec<usize> = text
            .char_indices()
            .filter(|(_, c)| matches!(c, '{' | ',' | '}'))
            .map(|(i, _)| i)
            .collect();
        expand(text, &braces, usize::MAX).unwrap_or_else(|e| vec![format!("ERR {e}")])
    }

    #[test]
    fn lists_and_sequences() {
        assert_eq!(exp("{curl,evil.example}"), ["curl", "evil.example"]);
        assert_eq!(exp("a{b,c}d"), ["abd", "acd"]);
        assert_eq!(exp("{a,{b,c}}d"), ["ad", "bd", "cd"]);
        assert_eq!(exp("{a,b}{1,2}"), ["a1", "a2", "b1", "b2"]);
        assert_eq!(exp("{,x}"), ["x"]);
        assert_eq!(exp("{c..c}url"), ["curl"]);
        assert_eq!(exp("{1..3}"), ["1", "2", "3"]);
        assert_eq!(exp("{3..1}"), ["3", "2", "1"]);
        assert_eq!(exp("{01..03}"), ["01", "02", "03"]);
        assert_eq!(exp("{0..10..5}"), ["0", "5", "10"]);
        assert_eq!(exp("{a..c}"), ["a", "b", "c"]);
        for literal in ["{}", "{a}", "{a", "a}", "x{1..}", "{a..1}", "é{,}"] {
            let expected: Vec<String> = if literal == "é{,}" {
                vec!["é".into(), "é".into()]
            } else {
                vec![literal.into()]
            };
            assert_eq!(exp(literal), expected, "{literal}");
        }
    }

    #[test]
    fn bounded() {
        assert!(exp("{1..100000}")[0].starts_with("ERR"));
        assert!(exp(&"{a,b}".repeat(20))[0].starts_with("ERR"));
        assert!(exp(&"{a,b}".repeat(2000))[0].starts_with("ERR"));
        assert_eq!(exp(&"{a,b}".repeat(10)).len(), 1024);
        assert!(exp("{0..9223372036854775807}")[0].starts_with("ERR"));
        // Extremes must not overflow.
        assert_eq!(
            exp("{-9223372036854775808..9223372036854775807..9223372036854775807}").len(),
            3
        );
        assert!(exp(&"{a,b}".repeat(20_000))[0].starts_with("ERR"));
    }
}
