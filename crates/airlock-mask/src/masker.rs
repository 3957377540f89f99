use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use hmac::Mac;

/// Rounds of masking the output again before a value is withheld whole.
const MAX_ROUNDS: usize = 4;

use crate::config::MaskerConfig;
use crate::custom::Custom;
use crate::detectors::{self, Builtin, Hit, On, recycle_hits, spare_hits};
use crate::error::MaskError;
use crate::scan::{self, Scanner};
use crate::style::{self, KeyedHash, Style};

/// One match: detector name and byte span `start..end` in the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub detector: Arc<str>,
    pub start: usize,
    pub end: usize,
}

/// A configured set of detectors and styles. Build once, share in an
/// `Arc`, call from any thread: scanning needs no locks and no per-call
/// setup.
pub struct Masker {
    scanner: Scanner,
    /// Indexed by detector id: built-ins, then customs.
    names: Vec<Arc<str>>,
    styles: Vec<Style>,
    /// `<masked:NAME>` per detector id, rendered once: the label style is
    /// then one copy per match.
    labels: Vec<Box<[u8]>>,
    /// With their detector id; disabled customs are not kept.
    custom: Vec<(u16, Custom)>,
    mac: KeyedHash,
}

impl Masker {
    pub fn new(config: &MaskerConfig) -> Result<Masker, MaskError> {
        let custom_names: Vec<&str> = config.custom.iter().map(|c| c.name.as_str()).collect();
        let is_custom = |name: &str| custom_names.contains(&name);

        let mut on = detectors::ALL
            .iter()
            .filter(|b| b.on_by_default())
            .fold(On::default(), |on, b| on.with(*b));
        for name in &config.enable {
            match Builtin::from_name(name) {
                Some(b) => on = on.with(b),
                None if is_custom(name) => {}
                None => return Err(MaskError::UnknownDetector(name.clone())),
            }
        }
        for name in &config.disable {
            if config.enable.contains(name) {
                return Err(MaskError::EnabledAndDisabled(name.clone()));
            }
            match Builtin::from_name(name) {
                Some(b) => on = on.without(b),
                None if is_custom(name) => {}
                None => return Err(MaskError::UnknownDetector(name.clone())),
            }
        }

        let mut names: Vec<Arc<str>> = detectors::NAMES.iter().map(|n| Arc::from(*n)).collect();
        let mut custom = Vec::new();
        for def in &config.custom {
            if names.iter().any(|n| **n == *def.name) {
                return Err(MaskError::DuplicateDetector(def.name.clone()));
            }
            let built = Custom::build(def)?;
            let id = u16::try_from(names.len())
                .map_err(|_| MaskError::DuplicateDetector(def.name.clone()))?;
            names.push(Arc::from(def.name.as_str()));
            if !config.disable.contains(&def.name) {
                custom.push((id, built));
            }
        }

        let mut styles = vec![Style::Label; names.len()];
        for (name, style) in &config.styles {
            let id = names
                .iter()
                .position(|n| **n == **name)
                .ok_or_else(|| MaskError::UnknownDetector(name.clone()))?;
            styles[id] = style.clone();
        }

        let mac =
            <KeyedHash as Mac>::new_from_slice(&config.hash_key).map_err(|_| MaskError::HashKey)?;
        let labels = names
            .iter()
            .map(|name| {
                let mut out = Vec::new();
                style::render(&mut out, &Style::Label, name, false, b"", &mac);
                out.into_boxed_slice()
            })
            .collect();
        Ok(Masker {
            scanner: Scanner::new(on)?,
            names,
            styles,
            labels,
            custom,
            mac,
        })
    }

    /// Every built-in detector name, whether on by default or not.
    pub fn builtin_detectors() -> &'static [&'static str] {
        &detectors::NAMES
    }

    /// Names of the detectors this masker runs: built-ins, then customs.
    pub fn enabled_detectors(&self) -> Vec<&str> {
        let builtins = detectors::ALL
            .iter()
            .filter(|b| self.scanner.on().has(**b))
            .map(|b| detectors::NAMES[usize::from(b.id())]);
        let customs = self
            .custom
            .iter()
            .map(|(id, _)| &*self.names[usize::from(*id)]);
        builtins.chain(customs).collect()
    }

    /// Masks every match in `value`; borrowed (and nothing allocated) when
    /// there is none.
    pub fn mask_str<'a>(&self, value: &'a str) -> Cow<'a, str> {
        match self.mask_bytes(value.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(value),
            // Replacements are ASCII and built-in matches are ASCII, so this
            // only falls back when a custom byte pattern split a character.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Masks every match in arbitrary bytes (invalid UTF-8 is fine).
    pub fn mask_bytes<'a>(&self, value: &'a [u8]) -> Cow<'a, [u8]> {
        let hits = self.hits(value);
        if hits.is_empty() {
            if hits.capacity() != 0 {
                recycle_hits(hits);
            }
            return Cow::Borrowed(value);
        }
        let mut out = self.masked(value, &hits);
        recycle_hits(hits);
        // A replacement changes what stands next to it: the rest of a
        // digit run that a longer match had hidden can now read as a phone
        // number, a `****` can give a neighbour the word boundary it
        // lacked. Mask again until nothing is found, so that no output ever
        // holds a match of an enabled detector (the fuzzer's property).
        for _ in 0..MAX_ROUNDS {
            let hits = self.hits(&out);
            if hits.is_empty() {
                if hits.capacity() != 0 {
                    recycle_hits(hits);
                }
                return Cow::Owned(out);
            }
            out = self.masked(&out, &hits);
            recycle_hits(hits);
        }
        // Never seen; should replacements keep making matches, the value
        // is withheld whole rather than passed with one in it.
        Cow::Owned(crate::style::REDACTED.as_bytes().to_vec())
    }

    /// `value` with every hit (resolved, at least one) replaced.
    fn masked(&self, value: &[u8], hits: &[Hit]) -> Vec<u8> {
        // Room for a label such as `<masked:aws_secret_access_key>`
        // per match: no reallocation while building.
        let mut out = Vec::with_capacity(value.len() + hits.len() * 32);
        let mut at = 0;
        for h in hits {
            out.extend_from_slice(&value[at..h.start]);
            self.render(&mut out, h, value);
            at = h.end;
        }
        out.extend_from_slice(&value[at..]);
        out
    }

    /// Everything the enabled detectors find, in order, not overlapping.
    pub fn findings(&self, value: &[u8]) -> Vec<Finding> {
        let hits = self.hits(value);
        let found = hits
            .iter()
            .map(|h| Finding {
                detector: Arc::clone(&self.names[usize::from(h.det)]),
                start: h.start,
                end: h.end,
            })
            .collect();
        if hits.capacity() != 0 {
            recycle_hits(hits);
        }
        found
    }

    /// The replacement for a whole value (a column rule); `label` names
    /// the rule in `Style::Label`'s `<masked:LABEL>`.
    pub fn replace_whole(&self, value: &[u8], label: &str, style: &Style) -> Vec<u8> {
        let mut out = Vec::with_capacity(label.len() + 16);
        style::render(&mut out, style, label, true, value, &self.mac);
        out
    }

    /// The resolved hits in `value`. The list starts without an
    /// allocation and takes the thread's spare buffer at the first match
    /// (give it back with [`recycle_hits`]): a clean value touches neither
    /// the buffer nor the allocator, and one with matches usually
    /// allocates nothing for its hits.
    #[inline(always)]
    fn hits(&self, value: &[u8]) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.scanner.scan(value, &mut hits);
        if !self.custom.is_empty() {
            self.scan_custom(value, &mut hits);
        }
        if hits.len() > 1 {
            scan::resolve(&mut hits);
        }
        hits
    }

    fn scan_custom(&self, value: &[u8], hits: &mut Vec<Hit>) {
        if hits.capacity() == 0 {
            *hits = spare_hits();
        }
        for (id, c) in &self.custom {
            c.scan(*id, value, hits);
        }
    }

    fn render(&self, out: &mut Vec<u8>, h: &Hit, value: &[u8]) {
        let id = usize::from(h.det);
        if let (Style::Label, Some(label)) = (&self.styles[id], self.labels.get(id)) {
            out.extend_from_slice(label);
            return;
        }
        let email = h.det == Builtin::Email.id();
        style::render(
            out,
            &self.styles[id],
            &self.names[id],
            email,
            &value[h.start..h.end],
            &self.mac,
        );
    }
}

// The keyed hash state is derived from the key: never print it.
impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("enabled", &self.enabled_detectors())
            .finish_non_exhaustive()
    }
}
