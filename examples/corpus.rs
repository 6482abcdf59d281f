//! Benchmark corpus: a deterministic site of N German guideline pages (600–1,500 words, headings, lists,
//! tables, links between pages, umlauts, long compounds), written twice — as a regelwerk site and as a Hugo
//! site with the same Markdown — and optionally a git history of M commits touching 1–3 files each.
//!
//! ```sh
//! cargo run --release --example corpus -- --pages 1000 --commits 2000 --seed 7 --out /tmp/korpus
//! ```
//! writes `/tmp/korpus/regelwerk/` (a git repository when --commits > 0) and `/tmp/korpus/hugo/`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Writes a deterministic German benchmark corpus for regelwerk and Hugo")]
struct Args {
    /// Number of guideline pages.
    #[arg(long, default_value_t = 1000)]
    pages: usize,
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

/// xorshift64*: small, fast and reproducible everywhere; statistical quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

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

/// The Markdown body of page `i`: 600–1,500 words in sections with lists, a table and links to other pages.
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

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn front_matter(i: usize, topic: &str, beschluss: Option<(usize, &str)>) -> String {
    let mut fm = format!(
        "+++\nid = \"leitlinie-{i:05}\"\ntitle = \"Leitlinie {i}: Einsatz von KI für {topic}\"\n\
         summary = \"Regeln für den Einsatz von KI-Systemen im Bereich {topic} der Kreisverwaltung.\"\n"
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
    write(
        &dir.join("content/rollen.toml"),
        "[[role]]\nid = \"ki-beauftragte\"\ntitle = \"KI-Beauftragte\"\nunit = \"Stabsstelle\"\nmailbox = \"ki@benchmark.example\"\n",
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
    let mut rng = Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let _ = std::fs::remove_dir_all(&args.out);
    let site = args.out.join("regelwerk");
    let hugo = args.out.join("hugo");
    regelwerk_site(&site);
    hugo_site(&hugo);

    let mut bodies: Vec<String> = Vec::with_capacity(args.pages);
    let mut topics: Vec<&str> = Vec::with_capacity(args.pages);
    for i in 0..args.pages {
        let topic = TOPICS[i % TOPICS.len()];
        let md = body(&mut rng, i, args.pages);
        write(
            &site.join(format!("content/leitlinien/leitlinie-{i:05}.md")),
            &format!("{}{md}", front_matter(i, topic, None)),
        );
        // Hugo resolves links by its own rules: the same text with page links rewritten to Hugo's paths.
        let hugo_md = md
            .replace("](leitlinie-", "](/leitlinien/leitlinie-")
            .replace(".md#", "/#");
        write(
            &hugo.join(format!("content/leitlinien/leitlinie-{i:05}.md")),
            &format!(
                "+++\ntitle = \"Leitlinie {i}: Einsatz von KI für {topic}\"\n+++\n\n{hugo_md}"
            ),
        );
        bodies.push(md);
        topics.push(topic);
    }
    if args.commits == 0 {
        println!("{} Seiten in {}", args.pages, args.out.display());
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
            write(
                &site.join(format!("content/leitlinien/leitlinie-{i:05}.md")),
                &format!("{}{}", front_matter(i, topics[i], beschluss), bodies[i]),
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
        "{} Seiten, {} Commits in {}",
        args.pages,
        args.commits + 1,
        args.out.display()
    );
}
