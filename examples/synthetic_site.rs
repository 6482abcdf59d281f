//! Writes a synthetic regelwerk site of N German guideline pages (600–1,500 words, a heading with an
//! id every 150–250 words), for measuring the build and the search index at scale:
//!
//! ```sh
//! cargo run --release --example synthetic_site -- 10000 /tmp/site-10k
//! target/release/regelwerk build --root /tmp/site-10k --output /tmp/site-10k-public -v
//! ```
//!
//! The text is deterministic (a fixed-seed generator over a German policy vocabulary with closed
//! compounds), so two runs write the same site. The benchmark issue owns a fuller generator.

use std::fmt::Write as _;
use std::path::Path;

/// Words of German administrative and AI policy text, including closed compounds.
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

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(count), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: synthetic_site <pages> <dir>");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("pages must be a number");
    let root = Path::new(&dir);
    std::fs::create_dir_all(root.join("content/leitlinien"))?;
    std::fs::create_dir_all(root.join("content/seiten"))?;
    std::fs::write(
        root.join("regelwerk.toml"),
        "title = \"Synthetische Leitlinien\"\nbase_url = \"https://example.org/\"\nlanguage = \"de\"\n",
    )?;
    std::fs::write(
        root.join("content/rollen.toml"),
        "[[role]]\nid = \"ki-beauftragte\"\ntitle = \"KI-Beauftragte\"\n",
    )?;
    for page in ["impressum", "datenschutz", "barrierefreiheit"] {
        std::fs::write(
            root.join(format!("content/seiten/{page}.md")),
            format!("+++\ntitle = \"{page}\"\n+++\n\nText der Seite {page}.\n"),
        )?;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..count {
        let mut text = format!(
            "+++\nid = \"leitlinie-{i:06}\"\ntitle = \"Leitlinie {i}: {} und {}\"\nsummary = \"Synthetische Leitlinie {i}.\"\nstatus = \"entwurf\"\nowner = \"ki-beauftragte\"\norder = {i}\n+++\n",
            WORDS[rng.below(70)],
            WORDS[rng.below(70)]
        );
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
        std::fs::write(
            root.join(format!("content/leitlinien/leitlinie-{i:06}.md")),
            text,
        )?;
    }
    Ok(())
}
