//! The benchmark corpus: a deterministic regelwerk site of N German guideline pages, R entries of the
//! KI-Register and K responsibility matrices (RACI), plus a Hugo site with the same guideline pages, and
//! optionally a git history of M commits touching 1–3 guideline pages each.
//!
//! ```sh
//! cargo run --release --example corpus -- --pages 1000 --commits 2000 --seed 7 --out /tmp/korpus
//! ```
//! writes `/tmp/korpus/regelwerk/` (a git repository when --commits > 0) and `/tmp/korpus/hugo/`.
//!
//! - Guideline pages (`--text saetze`, the default): 600–1,500 words of German administrative text in
//!   sections with lists, tables, links to other pages, umlauts and long compounds.
//!   `--text woerter`: words drawn from a list of ≈ 115 (many closed compounds), a heading with an id every
//!   150–250 words, no links — every word on almost every page, the worst case for the search index and its
//!   compound expansion (the search measurements in BENCHMARKS.md).
//! - Register entries (`--register R`, default N / 20): AI systems a county could run — chat assistants,
//!   transcription, classification of incoming mail, forecasts, image recognition, high-risk benefit checks —
//!   with varied status, risk class, hosting and model licence; every entry passes `regelwerk check`.
//! - Matrices (`--raci K`, default 3) over the corpus's roles (`content/rollen.toml`): each task one A, at
//!   least one R, at most three C; every role appears in some matrix.
//! - The Hugo site holds only the guideline pages (Hugo has no register or matrices).
//!
//! The same arguments give the same corpus. The pages come from one pseudo-random stream and the register
//! and matrices from another, so `--register` and `--raci` do not change the pages.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Parser, ValueEnum};

#[derive(Parser)]
#[command(about = "Writes a deterministic German benchmark corpus for regelwerk and Hugo")]
struct Args {
    /// Number of guideline pages.
    #[arg(long, default_value_t = 1000)]
    pages: usize,
    /// Number of KI-Register entries [default: pages / 20].
    #[arg(long)]
    register: Option<usize>,
    /// Number of responsibility matrices (RACI).
    #[arg(long, default_value_t = 3)]
    raci: usize,
    /// The text of the guideline pages.
    #[arg(long, value_enum, default_value_t = Text::Saetze)]
    text: Text,
    /// Number of commits of history after the first one (0: no git repository).
    #[arg(long, default_value_t = 0)]
    commits: usize,
    /// Seed of the pseudo-random generator: the same seed gives the same corpus.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder (replaced).
    #[arg(long)]
    out: PathBuf,
}

/// What the guideline pages say.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Text {
    /// Sentences of administrative German with headings, lists, tables and links between pages.
    Saetze,
    /// Words from a short list with many compounds, a heading every 150–250 words (search worst case).
    Woerter,
}

/// xorshift64*: small, fast and reproducible everywhere; statistical quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
    /// True with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }
}

// ---------------------------------------------------------------------------------------------------------
// Guideline pages
// ---------------------------------------------------------------------------------------------------------
const SUBJECTS: &[&str] = &[
    "Die Fachverantwortung",
    "Die KI-Beauftragte",
    "Der Fachbereich",
    "Die Datenschutzbeauftragte",
    "Der IT-Betrieb",
    "Die Informationssicherheitsbeauftragte",
    "Der KI-Lenkungskreis",
    "Die Personalentwicklung",
    "Die Vergabestelle",
    "Der Personalrat",
];
const VERBS: &[&str] = &[
    "prüft",
    "dokumentiert",
    "bewertet",
    "genehmigt",
    "überwacht",
    "veröffentlicht",
    "aktualisiert",
    "begründet",
    "meldet",
    "überprüft",
];
const OBJECTS: &[&str] = &[
    "die Datenschutz-Folgenabschätzung",
    "die Risikoklassifizierung nach der KI-Verordnung",
    "den Eintrag im KI-Register",
    "die Verarbeitungstätigkeit",
    "die Auftragsverarbeitungsvereinbarung",
    "die Grundrechte-Folgenabschätzung",
    "den Schulungsnachweis",
    "die Protokollierung der Systemzugriffe",
    "die Prüfung auf algorithmische Verzerrungen",
    "die Zweckbindung der Verwaltungsdaten",
    "die Datenübermittlung an Auftragsverarbeiter",
    "die Informationssicherheitsleitlinie",
    "die Barrierefreiheitsanforderungen",
    "die Löschfristen der Eingabedaten",
];
const CLAUSES: &[&str] = &[
    "bevor ein KI-System in den Wirkbetrieb geht",
    "mindestens einmal jährlich",
    "unverzüglich nach jeder wesentlichen Änderung",
    "im Benehmen mit der Datenschutzbeauftragten",
    "nach Maßgabe der Verordnung (EU) 2024/1689",
    "unter Beachtung des Niedersächsischen Datenschutzgesetzes",
    "auf verwaltungseigener oder öffentlich-rechtlicher Infrastruktur",
    "bevor personenbezogene Daten verarbeitet werden",
    "innerhalb von vierzehn Tagen",
    "gemeinsam mit dem kommunalen IT-Dienstleister",
];
const HEADINGS: &[&str] = &[
    "Zweck und Geltungsbereich",
    "Zuständigkeiten",
    "Verfahren",
    "Dokumentationspflichten",
    "Datenschutz und Informationssicherheit",
    "Überprüfung und Fortschreibung",
    "Ausnahmen",
    "Übergangsregelungen",
    "Begriffsbestimmungen",
    "Schulung und Qualifizierung",
];
const TOPICS: &[&str] = &[
    "Sprachmodelle",
    "Übersetzungsdienste",
    "Spracherkennung",
    "Dokumentenklassifikation",
    "Terminvergabe",
    "Bürgerservice-Chat",
    "Bescheidvorbereitung",
    "Aktenrecherche",
    "Bildanalyse",
    "Prognosemodelle",
];

fn sentence(rng: &mut Rng) -> String {
    format!(
        "{} {} {} {}.",
        rng.pick(SUBJECTS),
        rng.pick(VERBS),
        rng.pick(OBJECTS),
        rng.pick(CLAUSES)
    )
}

fn paragraph(rng: &mut Rng) -> String {
    let n = 3 + rng.below(4);
    (0..n).map(|_| sentence(rng)).collect::<Vec<_>>().join(" ")
}

/// `--text saetze`: the Markdown body of page `i`: 600–1,500 words in sections with lists, a table and links to other pages.
fn body(rng: &mut Rng, i: usize, pages: usize) -> String {
    let mut md = String::new();
    let target_words = 600 + rng.below(900);
    let mut words = 0;
    let mut section = 0;
    while words < target_words {
        let heading = HEADINGS[(section + i) % HEADINGS.len()];
        let _ = writeln!(md, "## {heading} {{#abschnitt-{section}}}\n");
        for _ in 0..2 + rng.below(2) {
            let p = paragraph(rng);
            words += p.split_whitespace().count();
            let _ = writeln!(md, "{p}\n");
        }
        match section % 3 {
            0 => {
                for _ in 0..3 {
                    let _ = writeln!(md, "- {}", sentence(rng));
                    words += 8;
                }
                md.push('\n');
            }
            1 => {
                md.push_str("| Aufgabe | Zuständig | Frist |\n|---|---|---|\n");
                for _ in 0..3 {
                    let _ = writeln!(
                        md,
                        "| {} | {} | {} |",
                        rng.pick(OBJECTS),
                        rng.pick(SUBJECTS),
                        rng.pick(CLAUSES)
                    );
                    words += 12;
                }
                md.push('\n');
            }
            _ => {
                let other = (i + 1 + rng.below(pages.max(2) - 1)) % pages;
                let _ = writeln!(
                    md,
                    "Siehe auch [Leitlinie {other}](leitlinie-{other:05}.md#abschnitt-0).\n"
                );
                words += 4;
            }
        }
        section += 1;
    }
    md
}

/// `--text woerter`: words of German administrative and AI policy text, many of them closed compounds; titles
/// and headings draw from the first 70.
const WORDS: &[&str] = &[
    "Verwaltung",
    "Leitlinie",
    "Datenschutzfolgenabschätzung",
    "Risikoklassifizierung",
    "Datenübermittlung",
    "Künstliche",
    "Intelligenz",
    "Fachbereich",
    "Zuständigkeit",
    "Verantwortung",
    "Haftung",
    "Beschäftigte",
    "Bürgerinnen",
    "Bürger",
    "Anwendung",
    "Sprachmodell",
    "Rechenzentrum",
    "Auftragsverarbeitung",
    "Drittland",
    "Protokollierung",
    "Transparenzpflicht",
    "Hochrisiko",
    "Risiken",
    "Risiko",
    "Prüfung",
    "Freigabe",
    "Schulung",
    "Kompetenz",
    "Register",
    "Eintrag",
    "Betrieb",
    "Sicherheit",
    "Informationssicherheit",
    "Grundrechte",
    "Folgenabschätzung",
    "Entscheidung",
    "Aufsicht",
    "menschliche",
    "automatisierte",
    "Verarbeitung",
    "personenbezogener",
    "Daten",
    "Rechtsgrundlage",
    "Zweck",
    "Löschung",
    "Speicherung",
    "Anbieter",
    "Betreiber",
    "Plattform",
    "Quelloffenheit",
    "Lizenz",
    "Modell",
    "Gewichte",
    "Beschaffung",
    "Vergabe",
    "Kreistag",
    "Landkreis",
    "Lüneburg",
    "Beschluss",
    "Vorlage",
    "Gremium",
    "Überprüfung",
    "Bewertung",
    "Maßnahme",
    "Maßnahmen",
    "Vorfall",
    "Meldung",
    "Behörde",
    "Öffentlichkeit",
    "Barrierefreiheit",
    "der",
    "die",
    "das",
    "und",
    "oder",
    "mit",
    "für",
    "von",
    "bei",
    "nach",
    "wird",
    "werden",
    "ist",
    "sind",
    "eine",
    "einer",
    "den",
    "dem",
    "des",
    "im",
    "in",
    "zu",
    "auf",
    "durch",
    "nicht",
    "nur",
    "auch",
    "jede",
    "jeder",
    "alle",
    "vor",
    "über",
    "unter",
    "soweit",
    "sofern",
    "insbesondere",
    "regelmäßig",
    "schriftlich",
    "dokumentiert",
    "geprüft",
    "freigegeben",
    "veröffentlicht",
    "eingesetzt",
    "verantwortet",
    "gemeldet",
];

/// `--text woerter`: the title and body of page `i`, 600–1,500 words with a heading every 150–250 words.
fn word_page(rng: &mut Rng, i: usize) -> (String, String) {
    let title = format!(
        "Leitlinie {i}: {} und {}",
        WORDS[rng.below(70)],
        WORDS[rng.below(70)]
    );
    let mut text = String::new();
    let words = 600 + rng.below(900);
    let mut written = 0;
    let mut section = 0;
    while written < words {
        section += 1;
        let _ = write!(
            text,
            "\n## {} {} {{#abschnitt-{section}}}\n\n",
            WORDS[rng.below(70)],
            section
        );
        let length = 150 + rng.below(100);
        for w in 0..length {
            if w > 0 {
                text.push(if w % 18 == 0 { '\n' } else { ' ' });
            }
            text.push_str(WORDS[rng.below(WORDS.len())]);
            if w % 12 == 11 {
                text.push('.');
            }
        }
        text.push_str(".\n");
        written += length;
    }
    (title, text)
}

// ---------------------------------------------------------------------------------------------------------
// KI-Register
// ---------------------------------------------------------------------------------------------------------

/// A model an AI system can run on.
struct Model {
    name: &'static str,
    version: &'static str,
    vendor: &'static str,
    licence: &'static str,
    /// A cloud service only its vendor runs: the system is then hosted commercially.
    service: Option<Service>,
}

#[derive(Clone, Copy)]
enum Service {
    Azure,
    DeepL,
}

const fn model(
    name: &'static str,
    version: &'static str,
    vendor: &'static str,
    licence: &'static str,
) -> Model {
    Model {
        name,
        version,
        vendor,
        licence,
        service: None,
    }
}

const fn service(
    name: &'static str,
    version: &'static str,
    vendor: &'static str,
    service: Service,
) -> Model {
    Model {
        name,
        version,
        vendor,
        licence: "proprietary",
        service: Some(service),
    }
}

const TEXT_MODELS: &[Model] = &[
    model(
        "Teuken-7B-instruct",
        "v0.4",
        "OpenGPT-X (Fraunhofer IAIS u. a.)",
        "open_source",
    ),
    model("Mistral Small", "3.1 (24B)", "Mistral AI", "open_source"),
    model("Llama 3.3 Instruct", "70B", "Meta", "open_weights"),
    model("Gemma 3", "27B", "Google", "open_weights"),
    service(
        "GPT-4.1",
        "4.1",
        "OpenAI, bereitgestellt über Microsoft Azure",
        Service::Azure,
    ),
];
const SPEECH_MODELS: &[Model] = &[
    model("Whisper", "large-v3", "OpenAI", "open_source"),
    model("Whisper", "large-v3-turbo", "OpenAI", "open_source"),
    service(
        "Azure AI Speech (Batch-Transkription)",
        "2025",
        "Microsoft",
        Service::Azure,
    ),
];
const CLASSIFY_MODELS: &[Model] = &[
    model("gbert-large", "1.0", "deepset", "open_source"),
    model("Llama 3.3 Instruct", "70B", "Meta", "open_weights"),
    service(
        "GPT-4.1 mini",
        "4.1",
        "OpenAI, bereitgestellt über Microsoft Azure",
        Service::Azure,
    ),
];
const FORECAST_MODELS: &[Model] = &[
    model(
        "Gradient Boosting (scikit-learn), eigenes Modell",
        "2.1",
        "Landkreis (Eigenentwicklung)",
        "open_source",
    ),
    model("Prophet", "1.1", "Meta", "open_source"),
    model(
        "SAS Viya Visual Forecasting",
        "2025.09",
        "SAS Institute",
        "proprietary",
    ),
];
const VISION_MODELS: &[Model] = &[
    model("YOLOv8", "8.3", "Ultralytics", "open_source"),
    model("RT-DETR", "v2", "Baidu", "open_source"),
    service("Azure AI Vision", "4.0", "Microsoft", Service::Azure),
];
const TRANSLATION_MODELS: &[Model] = &[
    model("OPUS-MT", "2024", "Helsinki-NLP", "open_source"),
    model("Llama 3.3 Instruct", "70B", "Meta", "open_weights"),
    service("DeepL API Pro", "v2", "DeepL SE", Service::DeepL),
];
const RULE_MODELS: &[Model] = &[model(
    "Regelbasierte Fristberechnung (kein KI-Modell)",
    "2.3",
    "Landkreis (Eigenentwicklung)",
    "open_source",
)];

/// A kind of AI system a county runs. Entries vary it by status, hosting, model, dates and unit.
struct System {
    slug: &'static str,
    name: &'static str,
    summary: &'static str,
    purpose: &'static str,
    themes: &'static [&'static str],
    capability: &'static [&'static str],
    audience: &'static str,
    org_unit: &'static str,
    risk_class: &'static str,
    risk_rationale: &'static str,
    /// For high-risk systems: the Annex III area, whether the system profiles people, who is affected.
    annex_iii: Option<(u8, bool, &'static str)>,
    art50: &'static [&'static str],
    decision_effect: &'static str,
    /// For systems that support decisions: legal bases (title, URL).
    legal_basis: &'static [(&'static str, &'static str)],
    personal_data: &'static str,
    models: &'static [Model],
    risks: &'static [&'static str],
    data_sources: &'static [&'static str],
}

const SYSTEMS: &[System] = &[
    System {
        slug: "antragsassistent",
        name: "Antragsassistent im Bürgerservice",
        summary: "Ein Chat auf der Website beantwortet Fragen zu Anträgen, nennt die nötigen Unterlagen und verweist auf die zuständige Stelle. Er entscheidet nichts und sieht keine Akten.",
        purpose: "Auskünfte zu Anträgen und Zuständigkeiten rund um die Uhr, damit das Telefon des Bürgerservice für schwierige Anliegen frei bleibt.",
        themes: &["buergerservice", "digitalisierung"],
        capability: &["chat-assistenz"],
        audience: "public_facing",
        org_unit: "Fachdienst Bürgerservice",
        risk_class: "transparency",
        risk_rationale: "Ein Chat für allgemeine Auskünfte ohne Verwendung in einem Bereich des Anhangs III KI-VO; Transparenzpflichten nach Art. 50 Abs. 1 (Interaktionshinweis).",
        annex_iii: None,
        art50: &["interaction_notice", "output_marking"],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "pseudonymised",
        models: TEXT_MODELS,
        risks: &[
            "Falsche oder veraltete Auskünfte",
            "Eingabe personenbezogener Daten entgegen dem Hinweis",
        ],
        data_sources: &[
            "Öffentliche Informationsseiten des Landkreises",
            "Leistungsbeschreibungen des Niedersächsischen Serviceportals",
        ],
    },
    System {
        slug: "schreibassistenz",
        name: "Interne Schreibassistenz",
        summary: "Hilft Beschäftigten beim Entwerfen, Kürzen und Umformulieren von Texten. Jeder Text wird von einem Menschen geprüft und verantwortet, bevor er die Verwaltung verlässt.",
        purpose: "Entlastung bei Routinetexten wie Anschreiben, Vermerken und Zusammenfassungen öffentlicher Dokumente.",
        themes: &["allgemeine-verwaltung"],
        capability: &["texterstellung", "zusammenfassung"],
        audience: "internal",
        org_unit: "Alle Fachbereiche (Betrieb: Stabsstelle Digitalisierung)",
        risk_class: "transparency",
        risk_rationale: "Generatives KI-System ohne Verwendung in einem Bereich des Anhangs III KI-VO; Pflichten nach Art. 50 Abs. 2 und 4.",
        annex_iii: None,
        art50: &["output_marking", "public_interest_text"],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "none",
        models: TEXT_MODELS,
        risks: &[
            "Erfundene Angaben in Entwürfen",
            "Übernahme ungeprüfter Formulierungen",
        ],
        data_sources: &["Eingaben der Beschäftigten (ohne personenbezogene Daten)"],
    },
    System {
        slug: "sitzungsprotokolle",
        name: "Transkription von Sitzungen der Kreistagsausschüsse",
        summary: "Wandelt Tonaufnahmen öffentlicher Ausschusssitzungen in Text um, aus dem die Geschäftsstelle das Protokoll erstellt. Die Aufnahmen werden nach der Genehmigung des Protokolls gelöscht.",
        purpose: "Schnellere Erstellung der Niederschriften nach § 68 NKomVG.",
        themes: &["allgemeine-verwaltung"],
        capability: &["spracherkennung", "zusammenfassung"],
        audience: "internal",
        org_unit: "Büro des Kreistages",
        risk_class: "minimal",
        risk_rationale: "Spracherkennung zur Unterstützung der Protokollführung; kein Bereich des Anhangs III, keine Wechselwirkung mit Bürgerinnen und Bürgern.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "identified",
        models: SPEECH_MODELS,
        risks: &[
            "Fehlerhafte Zuordnung von Redebeiträgen",
            "Fehler bei Namen und Fachbegriffen",
        ],
        data_sources: &["Tonaufnahmen öffentlicher Sitzungen"],
    },
    System {
        slug: "posteingang",
        name: "Vorsortierung des elektronischen Posteingangs",
        summary: "Ordnet eingehende E-Mails und gescannte Briefe dem zuständigen Fachdienst zu. Unsichere Fälle gehen an die Poststelle; über Anliegen entscheidet das System nicht.",
        purpose: "Schnellere Weiterleitung von Anliegen an die zuständige Stelle.",
        themes: &["allgemeine-verwaltung", "digitalisierung"],
        capability: &["klassifikation"],
        audience: "internal",
        org_unit: "Zentrale Poststelle",
        risk_class: "minimal",
        risk_rationale: "Zuordnung von Schriftstücken zu Zuständigkeiten ohne Bewertung der Anliegen; kein Bereich des Anhangs III KI-VO.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "identified",
        models: CLASSIFY_MODELS,
        risks: &["Fehlleitung eines fristgebundenen Schreibens"],
        data_sources: &["Eingehende E-Mails und Scans des Posteingangs"],
    },
    System {
        slug: "uebersetzung",
        name: "Übersetzung von Informationsblättern und Schreiben",
        summary: "Übersetzt Informationsblätter und einfache Schreiben in häufige Herkunftssprachen. Übersetzungen rechtlich verbindlicher Texte prüft eine Sprachmittlerin.",
        purpose: "Verständliche Informationen für Menschen mit geringen Deutschkenntnissen.",
        themes: &["soziales", "buergerservice"],
        capability: &["uebersetzung"],
        audience: "both",
        org_unit: "Fachdienst Soziales und Integration",
        risk_class: "minimal",
        risk_rationale: "Maschinelle Übersetzung ohne Entscheidungswirkung; kein Bereich des Anhangs III.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "pseudonymised",
        models: TRANSLATION_MODELS,
        risks: &["Sinnentstellende Übersetzung von Fristen und Pflichten"],
        data_sources: &["Vorlagen und Informationsblätter des Fachdienstes"],
    },
    System {
        slug: "strassenschaeden",
        name: "Erkennung von Schäden an Kreisstraßen",
        summary: "Wertet Kamerabilder der Streckenkontrolle aus und markiert Schlaglöcher, Risse und beschädigte Leitpfosten. Die Straßenmeisterei prüft jeden Fund vor Ort.",
        purpose: "Schnellere und vollständigere Erfassung von Straßenschäden für die Unterhaltungsplanung.",
        themes: &["bauen-umwelt"],
        capability: &["bilderkennung"],
        audience: "internal",
        org_unit: "Straßenmeisterei",
        risk_class: "minimal",
        risk_rationale: "Bilderkennung an Sachen; Personen und Kennzeichen werden vor der Auswertung unkenntlich gemacht. Kein Sicherheitsbauteil kritischer Infrastruktur.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "none",
        models: VISION_MODELS,
        risks: &["Übersehene Schäden bei Nässe oder Gegenlicht"],
        data_sources: &["Kamerabilder der Streckenkontrollfahrten"],
    },
    System {
        slug: "fallzahlprognose",
        name: "Prognose der Fallzahlen in der Eingliederungshilfe",
        summary: "Schätzt aus anonymisierten Zeitreihen die Fallzahlen der nächsten zwei Jahre für die Haushalts- und Personalplanung. Einzelne Fälle werden nicht bewertet.",
        purpose: "Verlässlichere Haushaltsansätze und Personalbemessung.",
        themes: &["soziales", "finanzen"],
        capability: &["prognose"],
        audience: "internal",
        org_unit: "Fachbereich Soziales, Controlling",
        risk_class: "minimal",
        risk_rationale: "Aggregierte Prognose ohne Bezug auf einzelne Personen; kein Bereich des Anhangs III.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "none",
        models: FORECAST_MODELS,
        risks: &["Fehlplanung bei Strukturbrüchen, etwa nach Gesetzesänderungen"],
        data_sources: &[
            "Anonymisierte Fallzahlen 2015–2025",
            "Bevölkerungsvorausberechnung des Landesamts für Statistik",
        ],
    },
    System {
        slug: "leistungspruefung",
        name: "Plausibilitätsprüfung von Anträgen auf Hilfe zum Lebensunterhalt",
        summary: "Weist Sachbearbeiterinnen auf fehlende Unterlagen und Unstimmigkeiten in Anträgen hin. Über den Antrag entscheidet immer ein Mensch; Hinweise des Systems werden in der Akte dokumentiert.",
        purpose: "Vollständige Anträge und kürzere Bearbeitungszeiten.",
        themes: &["soziales"],
        capability: &["klassifikation", "zusammenfassung"],
        audience: "internal",
        org_unit: "Fachdienst Grundsicherung",
        risk_class: "high",
        risk_rationale: "Bewertung der Anspruchsberechtigung auf öffentliche Unterstützungsleistungen: Anhang III Nr. 5 Buchst. a KI-VO.",
        annex_iii: Some((
            5,
            true,
            "Antragstellende, darunter Menschen mit Behinderungen und Menschen mit geringen Deutschkenntnissen.",
        )),
        art50: &[],
        decision_effect: "supports_decision",
        legal_basis: &[
            (
                "§ 67a SGB X (Erhebung von Sozialdaten)",
                "https://www.gesetze-im-internet.de/sgb_10/__67a.html",
            ),
            (
                "§§ 27 ff. SGB XII (Hilfe zum Lebensunterhalt)",
                "https://www.gesetze-im-internet.de/sgb_12/__27.html",
            ),
        ],
        personal_data: "identified",
        models: CLASSIFY_MODELS,
        risks: &[
            "Benachteiligung einzelner Gruppen durch verzerrte Hinweise",
            "Automatisierungsneigung der Sachbearbeitung",
        ],
        data_sources: &[
            "Antragsformulare und eingereichte Unterlagen",
            "Fachverfahren der Grundsicherung",
        ],
    },
    System {
        slug: "bewerbungsvorauswahl",
        name: "Vorauswahl von Bewerbungen",
        summary: "Ordnet Bewerbungen nach den Anforderungen der Stellenausschreibung und fasst sie zusammen. Die Auswahlkommission sieht alle Bewerbungen und entscheidet selbst.",
        purpose: "Schnellere Sichtung bei Ausschreibungen mit vielen Bewerbungen.",
        themes: &["personal"],
        capability: &["klassifikation", "zusammenfassung"],
        audience: "internal",
        org_unit: "Fachdienst Personal",
        risk_class: "high",
        risk_rationale: "Auswahl und Bewertung von Bewerbungen: Anhang III Nr. 4 Buchst. a KI-VO.",
        annex_iii: Some((
            4,
            true,
            "Bewerberinnen und Bewerber, auch interne; besonders Menschen mit Behinderungen und Ältere.",
        )),
        art50: &[],
        decision_effect: "supports_decision",
        legal_basis: &[
            ("§ 88 NBG (Personalaktendaten)", ""),
            (
                "Art. 33 Abs. 2 GG (Bestenauslese)",
                "https://www.gesetze-im-internet.de/gg/art_33.html",
            ),
        ],
        personal_data: "identified",
        models: CLASSIFY_MODELS,
        risks: &[
            "Mittelbare Diskriminierung, etwa nach Alter oder Geschlecht",
            "Übergewichtung formaler Merkmale",
        ],
        data_sources: &[
            "Bewerbungsunterlagen",
            "Stellenausschreibung und Anforderungsprofil",
        ],
    },
    System {
        slug: "rechtsrecherche",
        name: "Rechercheassistent im Rechtsamt",
        summary: "Durchsucht Gesetze, Rechtsprechung und interne Vermerke und fasst Fundstellen mit Quellenangabe zusammen. Die juristische Bewertung bleibt bei den Beschäftigten.",
        purpose: "Schnellere Recherche bei Widersprüchen und Stellungnahmen.",
        themes: &["allgemeine-verwaltung"],
        capability: &["recherche", "zusammenfassung"],
        audience: "internal",
        org_unit: "Rechtsamt",
        risk_class: "transparency",
        risk_rationale: "Generatives System zur internen Recherche; keine Rechtspflege im Sinne von Anhang III Nr. 8, weil kein Gericht unterstützt wird.",
        annex_iii: None,
        art50: &["output_marking"],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "none",
        models: TEXT_MODELS,
        risks: &["Erfundene Fundstellen", "Veraltete Rechtslage"],
        data_sources: &[
            "Gesetze und Verordnungen",
            "Veröffentlichte Rechtsprechung",
            "Interne Vermerke ohne personenbezogene Daten",
        ],
    },
    System {
        slug: "hitzewarnung",
        name: "Hitzewarnungen des Gesundheitsamts",
        summary: "Verbindet die Wettervorhersage mit Daten zu Pflegeeinrichtungen und Kitas und schlägt vor, wer vor Hitzetagen gewarnt wird. Die Warnungen gibt das Gesundheitsamt selbst heraus.",
        purpose: "Rechtzeitige Warnung von Einrichtungen mit besonders gefährdeten Menschen.",
        themes: &["gesundheit"],
        capability: &["prognose"],
        audience: "public_facing",
        org_unit: "Gesundheitsamt",
        risk_class: "minimal",
        risk_rationale: "Prognose auf Ebene von Einrichtungen, keine Bewertung von Personen; kein Bereich des Anhangs III.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "none",
        models: FORECAST_MODELS,
        risks: &["Zu späte Warnung bei lokalen Wetterlagen"],
        data_sources: &[
            "Vorhersagen des Deutschen Wetterdienstes",
            "Verzeichnis der Pflegeeinrichtungen und Kitas",
        ],
    },
    System {
        slug: "notrufpriorisierung",
        name: "Unterstützung der Notrufabfrage in der Rettungsleitstelle",
        summary: "Schlägt während eines Notrufs anhand der strukturierten Abfrage eine Dringlichkeitsstufe vor. Die Disponentin entscheidet über Einsatzmittel und Priorität.",
        purpose: "Einheitlichere Einstufung von Notrufen bei hoher Auslastung.",
        themes: &["ordnung", "gesundheit"],
        capability: &["klassifikation"],
        audience: "internal",
        org_unit: "Kooperative Regionalleitstelle",
        risk_class: "high",
        risk_rationale: "Bewertung und Einstufung von Notrufen und Priorisierung von Rettungseinsätzen: Anhang III Nr. 5 Buchst. d KI-VO.",
        annex_iii: Some((
            5,
            false,
            "Anrufende und Patientinnen und Patienten, besonders Menschen mit Sprachbarrieren.",
        )),
        art50: &[],
        decision_effect: "supports_decision",
        legal_basis: &[("§ 6 NRettDG (Rettungsleitstelle)", "")],
        personal_data: "identified",
        models: CLASSIFY_MODELS,
        risks: &[
            "Unterschätzung der Dringlichkeit",
            "Schlechtere Einstufung bei Sprachbarrieren",
        ],
        data_sources: &[
            "Strukturierte Notrufabfrage",
            "Einsatzdaten der Leitstelle (pseudonymisiert für das Training)",
        ],
    },
    System {
        slug: "fristenrechner",
        name: "Fristenrechner im Bauordnungsamt",
        summary: "Berechnet Bearbeitungs- und Beteiligungsfristen aus festen Regeln. Aufgenommen, um zu zeigen, warum es kein KI-System im Sinne der KI-Verordnung ist.",
        purpose: "Einheitliche Fristberechnung in Baugenehmigungsverfahren.",
        themes: &["bauen-umwelt"],
        capability: &["klassifikation"],
        audience: "internal",
        org_unit: "Bauordnungsamt",
        risk_class: "out_of_scope",
        risk_rationale: "Feste, von Menschen geschriebene Regeln ohne Ableitung aus Daten: kein KI-System nach Art. 3 Nr. 1 KI-VO.",
        annex_iii: None,
        art50: &[],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "none",
        models: RULE_MODELS,
        risks: &["Fehler in den Regeln nach Gesetzesänderungen"],
        data_sources: &[
            "Niedersächsische Bauordnung",
            "Verfahrensdaten des Fachverfahrens",
        ],
    },
    System {
        slug: "terminchat",
        name: "Terminchat der Zulassungsstelle",
        summary: "Ein Chat vereinbart, verschiebt und storniert Termine der Kfz-Zulassung und nennt die mitzubringenden Unterlagen.",
        purpose: "Weniger Anrufe und ausgefallene Termine in der Zulassungsstelle.",
        themes: &["ordnung", "buergerservice"],
        capability: &["chat-assistenz"],
        audience: "public_facing",
        org_unit: "Straßenverkehrsamt, Zulassungsstelle",
        risk_class: "transparency",
        risk_rationale: "Chat mit Bürgerinnen und Bürgern ohne Verwendung in einem Bereich des Anhangs III; Interaktionshinweis nach Art. 50 Abs. 1.",
        annex_iii: None,
        art50: &["interaction_notice"],
        decision_effect: "none",
        legal_basis: &[],
        personal_data: "identified",
        models: TEXT_MODELS,
        risks: &[
            "Doppelte oder verlorene Buchungen",
            "Falsche Auskunft zu Unterlagen",
        ],
        data_sources: &[
            "Terminkalender der Zulassungsstelle",
            "Informationsseiten zur Zulassung",
        ],
    },
];

/// Where a second, third, … entry of the same kind of system is used.
const UNITS: &[&str] = &[
    "Fachdienst Jugend",
    "Gesundheitsamt",
    "Bauordnungsamt",
    "Kreiskasse",
    "Fachdienst Personal",
    "Ordnungsamt",
    "Umweltamt",
    "Schulamt",
    "Veterinäramt",
    "Jobcenter (Optionskommune)",
];
const PUBLIC_LAW_PROVIDERS: &[&str] = &[
    "Dataport AöR",
    "KDO – Zweckverband Kommunale Datenverarbeitung Oldenburg",
    "IT.Niedersachsen",
];
const COMMERCIAL_EU_PROVIDERS: &[&str] = &[
    "STACKIT (Rechenzentrum in Deutschland)",
    "IONOS SE (Rechenzentrum in Deutschland)",
    "OVHcloud (Rechenzentrum in Frankreich)",
];
const MAILBOXES: &[&str] = &[
    "ki@benchmark.example",
    "ki-register@benchmark.example",
    "buergerservice@benchmark.example",
    "datenschutz@benchmark.example",
    "digitalisierung@benchmark.example",
];
const OVERSIGHT: &[&str] = &[
    "Jedes Ergebnis prüft eine fachkundige Beschäftigte, bevor es verwendet wird; eine Stichprobe von 5 % wird monatlich nachkontrolliert.",
    "Die Fachverantwortliche wertet wöchentlich Rückmeldungen und eine Stichprobe der Ergebnisse aus und kann das System jederzeit abschalten.",
    "Beschäftigte können jeden Vorschlag verwerfen; Abweichungen werden protokolliert und vierteljährlich ausgewertet.",
];
const PROCUREMENT: &[&str] = &[
    "Inhouse-Vergabe an den öffentlich-rechtlichen Dienstleister (§ 108 GWB)",
    "Öffentliche Ausschreibung nach UVgO",
    "Abruf aus einem Rahmenvertrag des Landes Niedersachsen",
];

fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn quoted_list(values: &[&str]) -> String {
    let items: Vec<String> = values.iter().map(|v| quoted(v)).collect();
    format!("[{}]", items.join(", "))
}

/// A date in `year` (day 1–28, so every month has it).
fn date(rng: &mut Rng, year: u32, months: std::ops::Range<u32>) -> String {
    let month = months.start + rng.below((months.end - months.start) as usize) as u32;
    format!("{year}-{month:02}-{:02}", 1 + rng.below(28))
}

/// Entry `i` of the register: its id and the TOML text of `content/register/<id>.toml`.
fn register_entry(rng: &mut Rng, i: usize) -> (String, String) {
    let system = &SYSTEMS[i % SYSTEMS.len()];
    let round = i / SYSTEMS.len();
    let (id, name, org_unit) = if round == 0 {
        (
            system.slug.to_string(),
            system.name.to_string(),
            system.org_unit.to_string(),
        )
    } else {
        let unit = UNITS[(i + round) % UNITS.len()];
        (
            format!("{}-{}", system.slug, round + 1),
            format!("{} – {unit}", system.name),
            unit.to_string(),
        )
    };
    let high = system.risk_class == "high";
    let statuses: &[&str] = if high {
        &["planned", "planned", "pilot", "in_use", "retired"]
    } else {
        &["planned", "pilot", "in_use", "in_use", "in_use", "retired"]
    };
    let status = rng.pick(statuses);
    let operating = status == "pilot" || status == "in_use";
    let model = &system.models[rng.below(system.models.len())];
    let (hosting, provider, location) = match model.service {
        Some(Service::Azure) if rng.chance(1, 3) => (
            "commercial_third_country",
            "Microsoft Corporation (Azure, Rechenzentrum in den USA)".to_string(),
            "third_country",
        ),
        Some(Service::Azure) => (
            "commercial_eu",
            "Microsoft Ireland Operations Ltd. (Azure, Rechenzentrum in der EU)".to_string(),
            "eu",
        ),
        Some(Service::DeepL) => ("commercial_eu", "DeepL SE".to_string(), "eu"),
        None => match rng.below(6) {
            0..=2 => ("own", String::new(), "de"),
            3 | 4 => (
                "public_law_provider",
                rng.pick(PUBLIC_LAW_PROVIDERS).to_string(),
                "de",
            ),
            _ => {
                let p = rng.pick(COMMERCIAL_EU_PROVIDERS);
                let loc = if p.contains("Deutschland") {
                    "de"
                } else {
                    "eu"
                };
                ("commercial_eu", p.to_string(), loc)
            }
        },
    };

    let mut t = String::new();
    let _ = writeln!(
        t,
        "# Erzeugt vom Benchmark-Korpus (examples/corpus.rs): ein erfundenes System."
    );
    let _ = writeln!(t, "id = {}", quoted(&id));
    let _ = writeln!(t, "name = {}", quoted(&name));
    let _ = writeln!(t, "summary = {}", quoted(system.summary));
    let _ = writeln!(t, "status = {}", quoted(status));
    let since_year = 2024 + rng.below(2) as u32;
    let since_month = 1 + rng.below(12) as u32;
    if status != "planned" {
        let _ = writeln!(t, "in_use_since = \"{since_year}-{since_month:02}\"");
    }
    if status == "retired" {
        let _ = writeln!(t, "retired_on = \"2026-{:02}\"", 1 + rng.below(10));
    }
    let _ = writeln!(t, "themes = {}", quoted_list(system.themes));
    let _ = writeln!(t, "capability = {}", quoted_list(system.capability));
    let _ = writeln!(t, "audience = {}", quoted(system.audience));
    let _ = writeln!(t, "org_unit = {}", quoted(&org_unit));
    let accountable = if high {
        "ki-beauftragte"
    } else {
        rng.pick(&["ki-beauftragte", "fachbereichsleitung", "fachverantwortung"])
    };
    let _ = writeln!(t, "accountable_role = {}", quoted(accountable));
    let _ = writeln!(t, "contact_email = {}", quoted(rng.pick(MAILBOXES)));
    let _ = writeln!(t, "ai_act_role = \"deployer\"");
    let _ = writeln!(t, "risk_class = {}", quoted(system.risk_class));
    let _ = writeln!(t, "risk_rationale = {}", quoted(system.risk_rationale));
    let _ = writeln!(
        t,
        "art5_check = {{ date = {}, result = \"Keine nach Art. 5 KI-VO verbotene Praxis: keine Bewertung sozialen Verhaltens, keine Emotionserkennung, keine biometrische Kategorisierung.\" }}",
        date(rng, 2025, 3..13)
    );
    if let Some((area, profiling, _)) = system.annex_iii {
        let _ = writeln!(t, "annex_iii_area = {area}");
        let _ = writeln!(t, "profiling = {profiling}");
        let _ = writeln!(
            t,
            "eu_db_url = \"https://eu-datenbank.benchmark.example/eintrag/{id}\""
        );
        let _ = writeln!(t, "log_retention_months = {}", rng.pick(&["6", "12", "24"]));
        let _ = writeln!(t, "workers_reps_informed = {}", date(rng, 2025, 1..13));
    }
    if !system.art50.is_empty() {
        let _ = writeln!(t, "art50_duties = {}", quoted_list(system.art50));
    }
    let _ = writeln!(t, "purpose = {}", quoted(system.purpose));
    let _ = writeln!(t, "decision_effect = {}", quoted(system.decision_effect));
    if system.decision_effect != "none" {
        let _ = writeln!(
            t,
            "proportionality = \"Das System gibt nur Hinweise; die Entscheidung trifft ein Mensch, der alle Unterlagen sieht. Der Nutzen (kürzere Bearbeitung, einheitliche Prüfung) überwiegt den geringen zusätzlichen Eingriff, weil keine weiteren Daten erhoben werden.\""
        );
        let _ = writeln!(
            t,
            "appeal = \"Gegen die Entscheidung sind Widerspruch und Klage wie gegen jede Entscheidung der Verwaltung möglich; auf Antrag wird mitgeteilt, ob und welche Hinweise das System gegeben hat.\""
        );
    }
    if status != "planned" {
        let _ = writeln!(t, "human_oversight = {}", quoted(rng.pick(OVERSIGHT)));
        let _ = writeln!(t, "risks = {}", quoted_list(system.risks));
        let _ = writeln!(t, "data_sources = {}", quoted_list(system.data_sources));
    }
    let _ = writeln!(t, "personal_data = {}", quoted(system.personal_data));
    let _ = writeln!(t, "hosting = {}", quoted(hosting));
    if hosting != "own" {
        let _ = writeln!(t, "hosting_provider = {}", quoted(&provider));
    }
    let _ = writeln!(t, "data_location = {}", quoted(location));
    if model.licence == "proprietary" {
        let _ = writeln!(
            t,
            "oss_deviation_reason = \"Ein offenes Modell erreichte im Vergleichstest nicht die nötige Qualität. Der KI-Lenkungskreis hat die Ausnahme befristet zugelassen; ein offenes Modell wird bei der nächsten Überprüfung erneut getestet.\""
        );
    }
    if operating {
        let mut training = vec!["ki-grundlagen"];
        if !system.art50.is_empty() {
            training.push("generative-ki-praxis");
        }
        if system.decision_effect != "none" || high {
            training.push("menschliche-aufsicht");
        }
        let _ = writeln!(t, "training = {}", quoted_list(&training));
    }
    let _ = writeln!(t, "last_reviewed = {}", date(rng, 2026, 6..11));
    let _ = writeln!(
        t,
        "review_interval_months = {}",
        rng.pick(&["12", "24", "36"])
    );
    let _ = writeln!(t, "schema_version = \"1.0\"\nexample = false");
    if hosting != "own" && rng.chance(1, 4) {
        let _ = writeln!(t, "unverified = [\"suppliers\"]");
    }

    if operating {
        let by = if high {
            "ki-lenkungskreis"
        } else {
            rng.pick(&["ki-beauftragte", "fachbereichsleitung"])
        };
        let _ = write!(
            t,
            "\n[approval]\nby_role = {}\ndate = {since_year}-{since_month:02}-01\n",
            quoted(by)
        );
    }
    if let Some((_, _, affected)) = system.annex_iii {
        let _ = write!(
            t,
            "\n[fria]\nprocess = {}\nperiod = \"Während der gesamten Nutzung, an Arbeitstagen während der Dienstzeiten.\"\n\
             affected_groups = {}\n\
             risks = {}\n\
             oversight = \"Jeder Hinweis des Systems wird von einer geschulten Beschäftigten geprüft; sie kann ihn verwerfen und das System aussetzen.\"\n\
             measures = \"Halbjährliches Bias-Audit, Beschwerdeweg über die KI-Beauftragte, Aussetzen des Systems bei auffälligen Abweichungen.\"\n\
             date = {}\nsummary = \"Die Grundrechte-Folgenabschätzung sieht vertretbare Risiken, wenn die menschliche Prüfung jedes Hinweises eingehalten wird.\"\n",
            quoted(system.purpose),
            quoted(affected),
            quoted(&system.risks.join("; ")),
            date(rng, 2025, 1..13)
        );
    }
    let _ = write!(
        t,
        "\n[[models]]\nname = {}\nversion = {}\nvendor = {}\nlicence = {}\n",
        quoted(model.name),
        quoted(model.version),
        quoted(model.vendor),
        quoted(model.licence)
    );
    if hosting != "own" {
        let procurement = if hosting == "public_law_provider" {
            PROCUREMENT[0]
        } else {
            rng.pick(&PROCUREMENT[1..])
        };
        let _ = write!(
            t,
            "\n[[suppliers]]\nname = {}\nrole = \"Betrieb der Anwendung und des Modells\"\nprocurement = {}\n\
             data_access = \"Verarbeitung der Eingaben im Auftrag (Art. 28 DSGVO); keine Nutzung für das Training.\"\n",
            quoted(&provider),
            quoted(procurement)
        );
    }
    for (title, url) in system.legal_basis {
        let _ = write!(t, "\n[[legal_basis]]\ntitle = {}\n", quoted(title));
        if !url.is_empty() {
            let _ = writeln!(t, "url = {}", quoted(url));
        }
    }
    if location == "third_country" {
        let _ = write!(
            t,
            "\n[[legal_basis]]\ntitle = \"Angemessenheitsbeschluss (EU) 2023/1795 zum EU-US Data Privacy Framework (Art. 45 DSGVO)\"\n\
             url = \"https://eur-lex.europa.eu/eli/dec_impl/2023/1795/oj\"\n"
        );
    }
    let mut assessments: Vec<(&str, &str)> = Vec::new();
    if system.personal_data != "none" {
        assessments.push((
            "dpia",
            "Datenschutz-Folgenabschätzung mit der Datenschutzbeauftragten; Eingaben werden nach 30 Tagen gelöscht.",
        ));
    }
    if high {
        assessments.push((
            "fria",
            "Grundrechte-Folgenabschätzung nach Art. 27 KI-VO (siehe oben).",
        ));
        assessments.push((
            "bias_audit",
            "Prüfung der Hinweise nach Geschlecht, Alter und Staatsangehörigkeit an 2.000 anonymisierten Altfällen.",
        ));
    }
    if status != "planned" && assessments.is_empty() {
        assessments.push((
            "other",
            "Vorabprüfung durch die KI-Beauftragte und die Informationssicherheit.",
        ));
    }
    for (kind, summary) in assessments {
        let _ = write!(
            t,
            "\n[[impact_assessments]]\ntype = {}\ndate = {}\nsummary = {}\n",
            quoted(kind),
            date(rng, 2025, 1..13),
            quoted(summary)
        );
    }
    (id, t)
}

// ---------------------------------------------------------------------------------------------------------
// Responsibility matrices
// ---------------------------------------------------------------------------------------------------------

/// The corpus's roles (`content/rollen.toml`): id, title, unit, mailbox.
const ROLES: &[(&str, &str, &str, &str)] = &[
    (
        "ki-beauftragte",
        "KI-Beauftragte",
        "Stabsstelle beim Landrat",
        "ki@benchmark.example",
    ),
    (
        "ki-lenkungskreis",
        "KI-Lenkungskreis",
        "Fachbereichsübergreifendes Gremium",
        "",
    ),
    (
        "fachbereichsleitung",
        "Fachbereichsleitung",
        "Leitung des einsetzenden Fachbereichs",
        "",
    ),
    (
        "fachverantwortung",
        "Fachverantwortliche (Systemverantwortung)",
        "Einsetzender Fachbereich",
        "",
    ),
    (
        "it-betrieb",
        "IT-Betrieb",
        "IT-Abteilung",
        "it-betrieb@benchmark.example",
    ),
    (
        "informationssicherheit",
        "Informationssicherheitsbeauftragte",
        "Informationssicherheitsmanagement",
        "informationssicherheit@benchmark.example",
    ),
    (
        "datenschutz",
        "Behördliche Datenschutzbeauftragte",
        "Datenschutz nach Art. 37 DSGVO",
        "datenschutz@benchmark.example",
    ),
    (
        "personalrat",
        "Personalrat",
        "Personalvertretung nach dem NPersVG",
        "personalrat@benchmark.example",
    ),
];

/// Themes of matrices: file name, title, description, tasks.
const MATRICES: &[(&str, &str, &str, &[&str])] = &[
    (
        "ki-lebenszyklus",
        "Zuständigkeiten im Lebenszyklus eines KI-Systems",
        "Wer bei einem KI-System vom Bedarf bis zur Außerbetriebnahme durchführt, verantwortet, angehört und unterrichtet wird.",
        &[
            "Bedarf feststellen",
            "Risikoklassifizierung",
            "Prüfung des Open-Source-Vorrangs",
            "Datenschutz-Folgenabschätzung",
            "Beteiligung der Personalvertretung",
            "Freigabe",
            "Eintrag im KI-Register",
            "Betrieb",
            "Bias-Audit",
            "Außerbetriebnahme",
        ],
    ),
    (
        "vorfallmanagement",
        "Zuständigkeiten bei Vorfällen mit KI-Systemen",
        "Wer bei Fehlern, Sicherheitsvorfällen und Beschwerden über ein KI-System handelt.",
        &[
            "Vorfall melden",
            "Vorfall bewerten",
            "System aussetzen",
            "Meldung an die Aufsichtsbehörde",
            "Betroffene informieren",
            "Ursache beheben",
            "Wiederinbetriebnahme",
            "Bericht an den Lenkungskreis",
        ],
    ),
    (
        "beschaffung",
        "Zuständigkeiten bei der Beschaffung von KI-Systemen",
        "Wer bei Markterkundung, Vergabe und Vertrag eines KI-Systems mitwirkt.",
        &[
            "Markterkundung",
            "Leistungsbeschreibung",
            "Prüfung offener Alternativen",
            "Auftragsverarbeitungsvertrag",
            "Prüfung der Informationssicherheit",
            "Zuschlag",
            "Exit-Strategie festlegen",
        ],
    ),
    (
        "schulung",
        "Zuständigkeiten für das Schulungsprogramm",
        "Wer Schulungen zur KI-Kompetenz nach Art. 4 KI-VO plant, durchführt und nachweist.",
        &[
            "Schulungsbedarf ermitteln",
            "Module festlegen",
            "Schulung durchführen",
            "Teilnahme nachweisen",
            "Programm auswerten",
        ],
    ),
];

/// Matrix `k`: its file name, the sidecar TOML and the CSV. Every role is a column; each task has one A
/// (sometimes AR), at least one R, at most three C (W6 warns from four on).
fn matrix(rng: &mut Rng, k: usize) -> (String, String, String) {
    let (stem, title, description, tasks) = MATRICES[k % MATRICES.len()];
    let round = k / MATRICES.len();
    let (stem, title) = if round == 0 {
        (stem.to_string(), title.to_string())
    } else {
        let unit = UNITS[(k + round) % UNITS.len()];
        (format!("{stem}-{}", round + 1), format!("{title} ({unit})"))
    };
    let sidecar = format!(
        "title = {}\ndescription = {}\n",
        quoted(&title),
        quoted(description)
    );
    let ids: Vec<&str> = ROLES.iter().map(|r| r.0).collect();
    let mut csv = format!("Aufgabe;{}\n", ids.join(";"));
    for (t, task) in tasks.iter().enumerate() {
        let mut cells = vec![""; ids.len()];
        let a = rng.below(ids.len());
        if rng.chance(1, 3) {
            cells[a] = "AR";
        } else {
            cells[a] = "A";
            let r = (a + 1 + rng.below(ids.len() - 1)) % ids.len();
            cells[r] = "R";
        }
        let mut consulted = 0;
        for cell in cells.iter_mut() {
            if cell.is_empty() {
                match rng.below(4) {
                    0 if consulted < 3 => {
                        *cell = "C";
                        consulted += 1;
                    }
                    1 => *cell = "I",
                    _ => {}
                }
            }
        }
        // Every role takes part in some task of the first matrix (it has more tasks than there are roles).
        if cells[t % ids.len()].is_empty() {
            cells[t % ids.len()] = "I";
        }
        let _ = writeln!(csv, "{task};{}", cells.join(";"));
    }
    (stem, sidecar, csv)
}

// ---------------------------------------------------------------------------------------------------------
// Sites
// ---------------------------------------------------------------------------------------------------------

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn front_matter(i: usize, title: &str, summary: &str, beschluss: Option<(usize, &str)>) -> String {
    let mut fm = format!(
        "+++\nid = \"leitlinie-{i:05}\"\ntitle = {}\nsummary = {}\n",
        quoted(title),
        quoted(summary)
    );
    match beschluss {
        Some((n, date)) => {
            let _ = write!(
                fm,
                "status = \"beschlossen\"\nowner = \"ki-beauftragte\"\norder = {i}\ngueltig_ab = {date}\n\n\
                 [beschluss]\ngremium = \"Kreistag\"\ndatum = {date}\nvorlage = \"2026/{n:03}\"\n"
            );
        }
        None => {
            let _ = write!(
                fm,
                "status = \"entwurf\"\nowner = \"ki-beauftragte\"\norder = {i}\n"
            );
        }
    }
    fm.push_str("+++\n\n");
    fm
}

fn regelwerk_site(dir: &Path) {
    write(
        &dir.join("regelwerk.toml"),
        "title = \"Benchmark-Kreis\"\nbase_url = \"https://ki.benchmark.example/\"\nlanguage = \"de\"\n",
    );
    write(
        &dir.join("content/_index.md"),
        "+++\ntitle = \"Benchmark-Kreis\"\n+++\n\nKI-Leitlinien.\n",
    );
    let mut roles = String::new();
    for (id, title, unit, mailbox) in ROLES {
        let _ = write!(
            roles,
            "[[role]]\nid = \"{id}\"\ntitle = \"{title}\"\nunit = \"{unit}\"\nmailbox = \"{mailbox}\"\n\n"
        );
    }
    write(&dir.join("content/rollen.toml"), &roles);
    write(
        &dir.join("content/daten/schulungen.toml"),
        "[[modul]]\nid = \"ki-grundlagen\"\ntitle = \"KI-Grundlagen und sichere Nutzung\"\npflicht = true\n\n\
         [[modul]]\nid = \"generative-ki-praxis\"\ntitle = \"Generative KI in der Sachbearbeitung\"\npflicht = true\n\n\
         [[modul]]\nid = \"menschliche-aufsicht\"\ntitle = \"Menschliche Aufsicht und KI-gestützte Entscheidungen\"\npflicht = true\n",
    );
    for (id, title) in [
        ("impressum", "Impressum"),
        ("datenschutz", "Datenschutzerklärung"),
        ("barrierefreiheit", "Erklärung zur Barrierefreiheit"),
    ] {
        write(
            &dir.join(format!("content/seiten/{id}.md")),
            &format!("+++\ntitle = \"{title}\"\n+++\n\nText.\n"),
        );
    }
}

fn hugo_site(dir: &Path) {
    write(
        &dir.join("hugo.toml"),
        "baseURL = \"https://ki.benchmark.example/\"\nlanguageCode = \"de\"\ntitle = \"Benchmark-Kreis\"\n\
         disableKinds = [\"taxonomy\", \"term\", \"RSS\"]\n[markup.goldmark.parser.attribute]\nblock = true\ntitle = true\n",
    );
    write(
        &dir.join("layouts/_default/baseof.html"),
        "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>{{ .Title }}</title></head>\
         <body><main data-pagefind-body>{{ block \"main\" . }}{{ end }}</main></body></html>\n",
    );
    write(
        &dir.join("layouts/_default/single.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1><p>{{ .Summary }}</p>{{ .TableOfContents }}{{ .Content }}{{ end }}\n",
    );
    write(
        &dir.join("layouts/_default/list.html"),
        "{{ define \"main\" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n",
    );
}

fn git(dir: &Path, args: &[&str], time: Option<i64>) {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Korpus")
        .env("GIT_AUTHOR_EMAIL", "korpus@benchmark.example")
        .env("GIT_COMMITTER_NAME", "Korpus")
        .env("GIT_COMMITTER_EMAIL", "korpus@benchmark.example");
    if let Some(t) = time {
        command.env("GIT_AUTHOR_DATE", format!("@{t} +0000"));
        command.env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
    }
    let status = command.status().expect("git runs");
    assert!(status.success(), "git {args:?} failed");
}

fn main() {
    let args = Args::parse();
    let mut rng = Rng::new(args.seed);
    let _ = std::fs::remove_dir_all(&args.out);
    let site = args.out.join("regelwerk");
    let hugo = args.out.join("hugo");
    regelwerk_site(&site);
    hugo_site(&hugo);

    let mut bodies: Vec<String> = Vec::with_capacity(args.pages);
    let mut titles: Vec<(String, String)> = Vec::with_capacity(args.pages);
    for i in 0..args.pages {
        let (title, summary, md) = match args.text {
            Text::Saetze => {
                let topic = TOPICS[i % TOPICS.len()];
                (
                    format!("Leitlinie {i}: Einsatz von KI für {topic}"),
                    format!(
                        "Regeln für den Einsatz von KI-Systemen im Bereich {topic} der Kreisverwaltung."
                    ),
                    body(&mut rng, i, args.pages),
                )
            }
            Text::Woerter => {
                let (title, md) = word_page(&mut rng, i);
                (title, format!("Synthetische Leitlinie {i}."), md)
            }
        };
        write(
            &site.join(format!("content/leitlinien/leitlinie-{i:05}.md")),
            &format!("{}{md}", front_matter(i, &title, &summary, None)),
        );
        // Hugo resolves links by its own rules: the same text with page links rewritten to Hugo's paths.
        let hugo_md = md
            .replace("](leitlinie-", "](/leitlinien/leitlinie-")
            .replace(".md#", "/#");
        write(
            &hugo.join(format!("content/leitlinien/leitlinie-{i:05}.md")),
            &format!("+++\ntitle = {}\n+++\n\n{hugo_md}", quoted(&title)),
        );
        bodies.push(md);
        titles.push((title, summary));
    }

    // Register and matrices from their own stream: their number does not change the pages.
    let mut side = Rng::new(args.seed ^ 0x5245_4749_5354_4552);
    let entries = args.register.unwrap_or(args.pages / 20);
    for i in 0..entries {
        let (id, toml) = register_entry(&mut side, i);
        write(&site.join(format!("content/register/{id}.toml")), &toml);
    }
    for k in 0..args.raci {
        let (stem, sidecar, csv) = matrix(&mut side, k);
        write(&site.join(format!("content/raci/{stem}.toml")), &sidecar);
        write(&site.join(format!("content/raci/{stem}.csv")), &csv);
    }
    let counts = format!(
        "{} Seiten, {entries} Registereinträge, {} Matrizen",
        args.pages, args.raci
    );
    if args.commits == 0 {
        println!("{counts} in {}", args.out.display());
        return;
    }

    // History: every commit edits 1–3 pages (a changed sentence, an inserted paragraph, a moved paragraph);
    // every 25th commit adopts a page (a Fassung).
    let t0: i64 = 1_767_225_600; // 2026-01-01
    git(&site, &["init", "--quiet", "--initial-branch=main"], None);
    git(&site, &["add", "--all"], None);
    git(
        &site,
        &["commit", "--quiet", "-m", "Erster Stand"],
        Some(t0),
    );
    let mut adopted: Vec<Option<(usize, String)>> = vec![None; args.pages];
    for c in 0..args.commits {
        let time = t0 + (c as i64 + 1) * 3_600;
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(args.pages);
            let mut paragraphs: Vec<String> = bodies[i].split("\n\n").map(str::to_string).collect();
            match rng.below(3) {
                0 => {
                    let p = rng.below(paragraphs.len());
                    let (from, to) = (rng.pick(VERBS), rng.pick(VERBS));
                    paragraphs[p] = paragraphs[p].replacen(from, to, 1);
                }
                1 => {
                    let p = rng.below(paragraphs.len());
                    paragraphs.insert(p, paragraph(&mut rng));
                }
                _ => {
                    let from = rng.below(paragraphs.len());
                    let moved = paragraphs.remove(from);
                    let to = rng.below(paragraphs.len() + 1);
                    paragraphs.insert(to, moved);
                }
            }
            let edited = paragraphs.join("\n\n");
            // Every commit changes something: a no-op edit (same verb, same place) becomes an insertion.
            bodies[i] = if edited == bodies[i] {
                format!("{edited}\n\n{}", paragraph(&mut rng))
            } else {
                edited
            };
            if c % 25 == 24 {
                let date = chrono::DateTime::from_timestamp(time, 0)
                    .unwrap()
                    .date_naive()
                    .to_string();
                adopted[i] = Some((c / 25 + 1, date));
            }
            let beschluss = adopted[i].as_ref().map(|(n, d)| (*n, d.as_str()));
            let (title, summary) = &titles[i];
            write(
                &site.join(format!("content/leitlinien/leitlinie-{i:05}.md")),
                &format!(
                    "{}{}",
                    front_matter(i, title, summary, beschluss),
                    bodies[i]
                ),
            );
        }
        git(&site, &["add", "--all"], None);
        git(
            &site,
            &["commit", "--quiet", "-m", &format!("Änderung {c}")],
            Some(time),
        );
    }
    println!(
        "{counts}, {} Commits in {}",
        args.commits + 1,
        args.out.display()
    );
}
