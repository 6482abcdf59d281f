//! Reading typed fields out of a TOML document while collecting every problem with its exact position.
//!
//! serde stops at the first error and loses positions of missing fields; editors want all problems of a file
//! at once, each with its line. [`FieldReader`] walks toml's spanned document tree instead: every accessor
//! records the key as known, reports a missing, mistyped or malformed value as a [`Diagnostic`] and returns
//! `None`, and [`FieldReader::finish`] reports the keys nobody asked for (S2).

use std::ops::Range;

use chrono::NaiveDate;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostics::{Diagnostic, Rule, SourceText};

/// A value with the byte range it came from in its source file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Located<T> {
    pub value: T,
    pub span: Range<usize>,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Range<usize>) -> Self {
        Located { value, span }
    }
}

/// Whether a field must be present, and if so, why (the reason goes into the German message).
#[derive(Debug, Clone, Copy)]
pub enum Need<'r> {
    Optional,
    Required,
    /// Required because of another value, e.g. `"risk_class = high"`.
    RequiredBecause(&'r str),
}

/// One table of the document being read: its entries, where it is, and which keys were asked for.
pub struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    /// Where to point when a required key is missing (file offsets).
    anchor: Range<usize>,
    /// Dotted name of this table for messages, e.g. `beschluss` or `models[2]`; empty for the root.
    name: String,
    known: Vec<&'static str>,
}

impl<'t, 'i> Table<'t, 'i> {
    /// The dotted name of `key` in this table for messages, e.g. `models[2].licence`.
    pub fn qualified(&self, key: &str) -> String {
        if self.name.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.name, key)
        }
    }

    /// Whether the key is present (and mark it as known).
    pub fn has(&mut self, key: &'static str) -> bool {
        self.known.push(key);
        self.entries.get(key).is_some()
    }

    /// Where this table is in the file.
    pub fn anchor(&self) -> Range<usize> {
        self.anchor.clone()
    }
}

/// Reads fields from one TOML text that sits at byte `base` of `source` (front matter sits after `+++`).
pub struct FieldReader<'s> {
    source: &'s SourceText,
    base: usize,
    diagnostics: Vec<Diagnostic>,
}

impl<'s> FieldReader<'s> {
    pub fn new(source: &'s SourceText, base: usize) -> Self {
        FieldReader {
            source,
            base,
            diagnostics: Vec::new(),
        }
    }

    pub fn source(&self) -> &'s SourceText {
        self.source
    }

    /// Parses the TOML text; a syntax error becomes an S1 diagnostic at its position.
    pub fn parse<'i>(&mut self, text: &'i str) -> Option<Spanned<DeTable<'i>>> {
        match DeTable::parse(text) {
            Ok(table) => Some(table),
            Err(err) => {
                let span = err.span().unwrap_or(0..0);
                let message = format!(
                    "Die TOML-Syntax ist fehlerhaft: {}. Prüfen Sie Anführungszeichen, Klammern und „=“ in dieser Zeile.",
                    err.message().trim_end_matches('\n')
                );
                self.report(span, Rule::S1, message);
                None
            }
        }
    }

    /// The root table; `anchor` (file offsets) is where a missing required key is reported.
    pub fn root<'t, 'i>(
        &self,
        doc: &'t Spanned<DeTable<'i>>,
        anchor: Range<usize>,
    ) -> Table<'t, 'i> {
        Table {
            entries: doc.get_ref(),
            anchor,
            name: String::new(),
            known: Vec::new(),
        }
    }

    /// Reports a problem at a span of the TOML text (offsets relative to the TOML text).
    fn report(&mut self, span: Range<usize>, rule: Rule, message: String) {
        let span = span.start + self.base..span.end + self.base;
        self.diagnostics
            .push(Diagnostic::at(self.source, span, rule, message));
    }

    /// Reports a problem at a span given in file offsets.
    pub fn report_at(&mut self, span: Range<usize>, rule: Rule, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::at(self.source, span, rule, message.into()));
    }

    fn file_span(&self, span: Range<usize>) -> Range<usize> {
        span.start + self.base..span.end + self.base
    }

    /// Looks a key up, reporting E1 if it is required and missing.
    fn lookup<'t, 'i>(
        &mut self,
        table: &mut Table<'t, 'i>,
        key: &'static str,
        need: Need,
    ) -> Option<&'t Spanned<DeValue<'i>>> {
        table.known.push(key);
        let found = table.entries.get(key);
        if found.is_none() {
            let field = table.qualified(key);
            let message = match need {
                Need::Optional => return None,
                Need::Required => {
                    format!("Das Pflichtfeld „{field}“ fehlt. Ergänzen Sie „{key} = …“.")
                }
                Need::RequiredBecause(reason) => format!(
                    "Das Feld „{field}“ fehlt; es ist erforderlich, weil {reason}. Ergänzen Sie „{key} = …“."
                ),
            };
            let anchor = table.anchor.clone();
            self.diagnostics
                .push(Diagnostic::at(self.source, anchor, Rule::E1, message));
        }
        found
    }

    fn wrong_type(&mut self, table: &Table, key: &str, value: &Spanned<DeValue>, expected: &str) {
        let field = table.qualified(key);
        let message = format!(
            "„{field}“ muss {expected} sein, ist aber {}.",
            type_name_de(value.get_ref())
        );
        self.report(value.span(), Rule::S3, message);
    }

    /// A string, with an optional maximum length in characters (E11).
    pub fn text(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
        max_chars: Option<usize>,
    ) -> Option<Located<String>> {
        let value = self.lookup(table, key, need)?;
        let Some(text) = value.get_ref().as_str() else {
            self.wrong_type(table, key, value, "ein Text in Anführungszeichen");
            return None;
        };
        let span = self.file_span(value.span());
        if let Some(max) = max_chars {
            let len = text.chars().count();
            if len > max {
                let field = table.qualified(key);
                self.report_at(
                    span.clone(),
                    Rule::E11,
                    format!("„{field}“ ist {len} Zeichen lang, erlaubt sind höchstens {max}. Kürzen Sie den Text."),
                );
            }
        }
        if matches!(need, Need::Required | Need::RequiredBecause(_)) && text.trim().is_empty() {
            let field = table.qualified(key);
            self.report_at(
                span.clone(),
                Rule::E1,
                format!("Das Pflichtfeld „{field}“ ist leer. Tragen Sie einen Wert ein."),
            );
        }
        Some(Located::new(text.to_string(), span))
    }

    /// A string from a fixed vocabulary (E2 lists the allowed values).
    pub fn choice(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
        allowed: &[&str],
    ) -> Option<Located<String>> {
        let value = self.text(table, key, need, None)?;
        if allowed.contains(&value.value.as_str()) {
            Some(value)
        } else {
            let field = table.qualified(key);
            self.report_at(
                value.span.clone(),
                Rule::E2,
                format!(
                    "„{}“ ist für „{field}“ nicht erlaubt. Erlaubt sind: {}.",
                    value.value,
                    allowed.join(", ")
                ),
            );
            None
        }
    }

    /// A calendar date: a TOML date (`2026-07-01`) or a string in that form (E10 when malformed).
    pub fn date(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
    ) -> Option<Located<NaiveDate>> {
        let value = self.lookup(table, key, need)?;
        let span = self.file_span(value.span());
        let field = table.qualified(key);
        let parsed = match value.get_ref() {
            DeValue::Datetime(dt) => match (dt.date, dt.time) {
                (Some(d), None) => {
                    NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
                }
                _ => None,
            },
            DeValue::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
            _ => {
                self.wrong_type(table, key, value, "ein Datum (JJJJ-MM-TT)");
                return None;
            }
        };
        if parsed.is_none() {
            self.report_at(
                span.clone(),
                Rule::E10,
                format!(
                    "„{field}“ ist kein gültiges Kalenderdatum. Schreiben Sie es als JJJJ-MM-TT, z. B. 2026-07-01, ohne Uhrzeit."
                ),
            );
        }
        parsed.map(|d| Located::new(d, span))
    }

    /// A month as `"YYYY-MM"` (E10 when malformed).
    pub fn year_month(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
    ) -> Option<Located<String>> {
        let value = self.text(table, key, need, None)?;
        let valid = NaiveDate::parse_from_str(&format!("{}-01", value.value), "%Y-%m-%d").is_ok()
            && value.value.len() == 7;
        if valid {
            Some(value)
        } else {
            let field = table.qualified(key);
            self.report_at(
                value.span.clone(),
                Rule::E10,
                format!("„{field}“ muss ein Monat in der Form JJJJ-MM sein, z. B. \"2025-03\"."),
            );
            None
        }
    }

    /// An integer within an inclusive range.
    pub fn integer(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
        range: std::ops::RangeInclusive<i64>,
    ) -> Option<Located<i64>> {
        let value = self.lookup(table, key, need)?;
        let parsed = value.get_ref().as_integer().and_then(|i| {
            i64::from_str_radix(i.as_str().replace('_', "").as_str(), i.radix()).ok()
        });
        let Some(number) = parsed else {
            self.wrong_type(table, key, value, "eine ganze Zahl");
            return None;
        };
        let span = self.file_span(value.span());
        if !range.contains(&number) {
            let field = table.qualified(key);
            self.report_at(
                span.clone(),
                Rule::E2,
                format!(
                    "„{field}“ = {number} liegt außerhalb des erlaubten Bereichs {} bis {}.",
                    range.start(),
                    range.end()
                ),
            );
            return None;
        }
        Some(Located::new(number, span))
    }

    /// `true` or `false`.
    pub fn boolean(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
    ) -> Option<Located<bool>> {
        let value = self.lookup(table, key, need)?;
        match value.get_ref().as_bool() {
            Some(b) => Some(Located::new(b, self.file_span(value.span()))),
            None => {
                self.wrong_type(table, key, value, "true oder false");
                None
            }
        }
    }

    /// A web address (http or https), E10 when malformed.
    pub fn url(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
    ) -> Option<Located<String>> {
        let value = self.text(table, key, need, None)?;
        if is_web_url(&value.value) {
            Some(value)
        } else {
            let field = table.qualified(key);
            self.report_at(
                value.span.clone(),
                Rule::E10,
                format!(
                    "„{field}“ ist keine gültige Webadresse. Schreiben Sie die vollständige Adresse mit https://."
                ),
            );
            None
        }
    }

    /// An e-mail address, E10 when malformed; an empty string counts as "not yet filled in" and gives `None`.
    pub fn email(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
    ) -> Option<Located<String>> {
        let value = self.text(table, key, need, None)?;
        if value.value.is_empty() {
            return None;
        }
        if is_email(&value.value) {
            Some(value)
        } else {
            let field = table.qualified(key);
            self.report_at(
                value.span.clone(),
                Rule::E10,
                format!("„{field}“ ist keine gültige E-Mail-Adresse (Form: name@domain.de)."),
            );
            None
        }
    }

    /// A list of strings.
    pub fn texts(
        &mut self,
        table: &mut Table,
        key: &'static str,
        need: Need,
    ) -> Option<Vec<Located<String>>> {
        let value = self.lookup(table, key, need)?;
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(
                table,
                key,
                value,
                "eine Liste von Texten, z. B. [\"a\", \"b\"]",
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push(Located::new(s.to_string(), self.file_span(item.span()))),
                None => self.wrong_type(table, key, item, "ein Text in Anführungszeichen"),
            }
        }
        Some(out)
    }

    /// A sub-table (`[name]` or `name = { … }`).
    pub fn table<'t, 'i>(
        &mut self,
        table: &mut Table<'t, 'i>,
        key: &'static str,
        need: Need,
    ) -> Option<Table<'t, 'i>> {
        let value = self.lookup(table, key, need)?;
        match value.get_ref() {
            DeValue::Table(entries) => Some(Table {
                entries,
                anchor: self.file_span(value.span()),
                name: table.qualified(key),
                known: Vec::new(),
            }),
            _ => {
                self.wrong_type(table, key, value, "eine Tabelle ([abschnitt] oder { … })");
                None
            }
        }
    }

    /// An array of tables (`[[name]]`).
    pub fn tables<'t, 'i>(
        &mut self,
        table: &mut Table<'t, 'i>,
        key: &'static str,
        need: Need,
    ) -> Vec<Table<'t, 'i>> {
        let Some(value) = self.lookup(table, key, need) else {
            return Vec::new();
        };
        let Some(items) = value.get_ref().as_array() else {
            self.wrong_type(table, key, value, "eine Liste von Tabellen ([[abschnitt]])");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.get_ref() {
                DeValue::Table(entries) => out.push(Table {
                    entries,
                    anchor: self.file_span(item.span()),
                    name: format!("{}[{}]", table.qualified(key), i + 1),
                    known: Vec::new(),
                }),
                _ => self.wrong_type(table, key, item, "eine Tabelle"),
            }
        }
        out
    }

    /// Every entry of a table whose keys are free (e-mail addresses, say), each value a string (S3
    /// otherwise). Takes the table: it has no unknown keys to report.
    pub fn string_map(&mut self, table: Table) -> Vec<(Located<String>, Located<String>)> {
        let mut out = Vec::new();
        for (key, value) in table.entries.iter() {
            let name = key.get_ref().as_ref();
            match value.get_ref().as_str() {
                Some(s) => out.push((
                    Located::new(name.to_string(), self.file_span(key.span())),
                    Located::new(s.to_string(), self.file_span(value.span())),
                )),
                None => self.wrong_type(&table, name, value, "ein Text in Anführungszeichen"),
            }
        }
        out
    }

    /// Reports every key of `table` that no accessor asked for (S2), listing the allowed keys.
    pub fn finish(&mut self, table: Table) {
        for (key, _) in table.entries.iter() {
            let name = key.get_ref().as_ref();
            if !table.known.contains(&name) {
                let mut allowed: Vec<&str> = table.known.clone();
                allowed.dedup();
                let field = table.qualified(name);
                let message = format!(
                    "Unbekannter Schlüssel „{field}“. Prüfen Sie die Schreibweise; erlaubt sind: {}.",
                    allowed.join(", ")
                );
                self.report(key.span(), Rule::S2, message);
            }
        }
    }

    /// All problems found so far.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }
}

/// Whether `s` is an absolute http(s) URL with a host.
pub fn is_web_url(s: &str) -> bool {
    url::Url::parse(s)
        .map(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
        .unwrap_or(false)
}

/// A deliberately simple e-mail shape check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Whether `s` is a slug: lowercase ASCII letters, digits and single hyphens.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn type_name_de(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "ein Text",
        DeValue::Integer(_) => "eine Zahl",
        DeValue::Float(_) => "eine Kommazahl",
        DeValue::Boolean(_) => "ein Wahrheitswert",
        DeValue::Datetime(_) => "ein Datum",
        DeValue::Array(_) => "eine Liste",
        DeValue::Table(_) => "eine Tabelle",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, f: impl FnOnce(&mut FieldReader, &mut Table)) -> Vec<Diagnostic> {
        let source = SourceText::new("t.toml", text);
        let mut reader = FieldReader::new(&source, 0);
        let doc = reader.parse(text).expect("parses");
        let mut root = reader.root(&doc, 0..0);
        f(&mut reader, &mut root);
        reader.finish(root);
        reader.into_diagnostics()
    }

    #[test]
    fn collects_all_problems_with_lines() {
        let diags = read(
            "a = 1\nb = \"x\"\nzzz = true\nd = \"2026-02-30\"\n",
            |r, t| {
                r.text(t, "a", Need::Required, None);
                r.text(t, "b", Need::Required, Some(0));
                r.text(t, "c", Need::RequiredBecause("risk_class = high"), None);
                r.date(t, "d", Need::Required);
            },
        );
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(
            got,
            [
                (Rule::S3, 1),
                (Rule::E11, 2),
                (Rule::E1, 1),
                (Rule::E10, 4),
                (Rule::S2, 3)
            ]
        );
        assert!(diags[2].message.contains("weil risk_class = high"));
    }

    #[test]
    fn checks_shapes() {
        assert!(is_slug("ki-register-2"));
        assert!(!is_slug("Ki_Register"));
        assert!(is_email("ki@landkreis.example"));
        assert!(!is_email("ki at landkreis"));
        assert!(is_web_url("https://eur-lex.europa.eu/x"));
        assert!(!is_web_url("eur-lex.europa.eu"));
    }
}
