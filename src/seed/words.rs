//! The seed's words: tags, names, bios, titles, article and comment sentences. Plain data,
//! no SQL: `super::sql::choose` renders a list into the statements. Imports nothing (its
//! test checks the lists against `domain::validation`).

/// Tag names, most popular first.
pub(super) const TAGS: [&str; 30] = [
    "webdev",
    "javascript",
    "rust",
    "programming",
    "react",
    "typescript",
    "postgresql",
    "devops",
    "graphql",
    "python",
    "css",
    "testing",
    "architecture",
    "career",
    "opensource",
    "performance",
    "security",
    "databases",
    "kubernetes",
    "docker",
    "design",
    "productivity",
    "beginners",
    "tutorial",
    "linux",
    "cloud",
    "mobile",
    "accessibility",
    "machine-learning",
    "go",
];

/// First names (ASCII letters only: usernames are built from them).
pub(super) const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Tim",
    "Frances",
    "Edsger",
    "Hedy",
    "John",
    "Katherine",
    "Donald",
    "Sophie",
    "Guido",
    "Annie",
    "Bjarne",
    "Carol",
    "Niklaus",
    "Joan",
    "Larry",
    "Evelyn",
    "Yukihiro",
    "Mary",
    "Rasmus",
    "Jean",
    "Brendan",
    "Lynn",
    "Anders",
    "Susan",
    "James",
    "Karen",
    "Leslie",
    "Fran",
    "Ivan",
    "Adele",
    "Claude",
    "Priya",
    "Kwame",
    "Mei",
    "Olu",
    "Sofia",
    "Mateo",
    "Amara",
    "Jonas",
    "Noor",
    "Tariq",
];

/// Last names (ASCII letters only).
pub(super) const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Berners",
    "Allen",
    "Dijkstra",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Knuth",
    "Wilson",
    "Rossum",
    "Easley",
    "Stroustrup",
    "Shaw",
    "Wirth",
    "Clarke",
    "Wall",
    "Berezin",
    "Matsumoto",
    "Keller",
    "Lerdorf",
    "Sammet",
    "Eich",
    "Conway",
    "Hejlsberg",
    "Kare",
    "Gosling",
    "Jones",
    "Lamport",
    "Okafor",
    "Sutherland",
    "Goldberg",
    "Shannon",
    "Patel",
    "Mensah",
    "Chen",
    "Adeyemi",
    "Rossi",
    "Garcia",
    "Nwosu",
    "Berg",
    "Haddad",
    "Khan",
];

/// Email domains, all reserved for examples.
pub(super) const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

/// The first half of a bio: what someone does.
pub(super) const BIO_ROLES: &[&str] = &[
    "Backend engineer",
    "Frontend developer",
    "Product designer",
    "Data engineer",
    "Site reliability engineer",
    "Indie hacker",
    "Technical writer",
    "CS student",
    "Engineering manager",
    "Open-source maintainer",
    "Mobile developer",
    "Security researcher",
];

/// The second half of a bio.
pub(super) const BIO_TAILS: &[&str] = &[
    " who writes about databases.",
    " based in Lisbon.",
    ". Coffee, code and long walks.",
    " building tools for developers.",
    ". Opinions are my own.",
    " learning Rust one borrow at a time.",
    " at a small startup.",
    ". Previously at a big bank.",
    " who loves a good postmortem.",
    ". Talks about testing a lot.",
    " working remotely from Nairobi.",
    ". Writing things down so I remember them.",
];

/// An article title: opener, adjective, noun, ending.
pub(super) const TITLE_OPENERS: &[&str] = &[
    "A gentle introduction to",
    "Lessons learned from",
    "Notes on",
    "Rethinking",
    "The hidden cost of",
    "Getting started with",
    "Ten years of",
    "Debugging",
    "Scaling",
    "Testing",
    "Why we moved to",
    "What I wish I knew about",
    "Building",
    "Understanding",
    "A field guide to",
    "Shipping",
    "Measuring",
    "Designing",
    "Refactoring",
    "Living with",
];

/// Adjectives for titles and descriptions.
pub(super) const ADJECTIVES: &[&str] = &[
    "async",
    "distributed",
    "small",
    "legacy",
    "reactive",
    "typed",
    "offline-first",
    "serverless",
    "modular",
    "accessible",
    "resilient",
    "event-driven",
    "incremental",
    "immutable",
    "real-time",
    "boring",
];

/// Nouns for titles and descriptions.
pub(super) const NOUNS: &[&str] = &[
    "APIs",
    "databases",
    "queues",
    "design systems",
    "caches",
    "monoliths",
    "microservices",
    "state machines",
    "build pipelines",
    "search indexes",
    "dashboards",
    "mobile apps",
    "data models",
    "feature flags",
    "test suites",
    "schemas",
    "CLIs",
    "web components",
];

/// Title endings (often none).
pub(super) const TITLE_ENDINGS: &[&str] = &[
    "",
    "",
    " in Rust",
    " with PostgreSQL",
    " at scale",
    " on a budget",
    ": a case study",
    " for small teams",
    " in production",
    " without the hype",
    " the hard way",
];

/// An article description: lead, adjective, noun, ending.
pub(super) const DESCRIPTION_LEADS: &[&str] = &[
    "What we learned about",
    "A practical look at",
    "Notes and code on",
    "Everything I got wrong about",
    "A short tour of",
    "Hard-won lessons on",
    "An opinionated guide to",
    "The trade-offs behind",
    "How we think about",
    "A checklist for",
];

/// Description endings.
pub(super) const DESCRIPTION_ENDINGS: &[&str] = &[
    ".",
    " after two years in production.",
    ", with examples.",
    ", and what to do instead.",
    " for teams of any size.",
    ", from first prototype to on-call.",
];

/// Section headings in article bodies.
pub(super) const HEADINGS: &[&str] = &[
    "Background",
    "The problem",
    "What we tried first",
    "A better approach",
    "Trade-offs",
    "Measuring it",
    "In production",
    "What went wrong",
    "Lessons learned",
    "Next steps",
    "Further reading",
    "Wrapping up",
];

/// Sentences of article bodies.
pub(super) const SENTENCES: &[&str] = &[
    "It started, as these things do, with a pager alert at three in the morning.",
    "The first version was simple, and for a while simple was enough.",
    "Nobody on the team had measured it before, so we started there.",
    "Most of the time went into waiting on the network, not into our code.",
    "We wrote the smallest test that failed, and the fix followed from it.",
    "The documentation was right, but it answered a different question.",
    "A cache hides a slow query until the day it does not.",
    "We kept the old path running next to the new one for two weeks.",
    "Every dashboard looked green while users were timing out.",
    "The real constraint turned out to be the team, not the technology.",
    "Reading the source took an afternoon and saved us a month.",
    "Naming things carefully made the next three changes trivial.",
    "We moved the check into the database, where it could not be skipped.",
    "Half of the work was deleting code that nobody called any more.",
    "Batching the writes cut the latency in half.",
    "The migration ran in minutes because we had rehearsed it twice.",
    "A feature flag let us roll back without a deploy.",
    "Our users did not care about the architecture; they cared that it was fast.",
    "Each retry made the outage a little worse.",
    "The bug was in the one place we were sure it could not be.",
    "We added an index and the graph fell off a cliff, in the good way.",
    "Pair programming on the hard parts paid for itself.",
    "The type checker caught what the review missed.",
    "Logs without request ids are just noise.",
    "It is tempting to rewrite everything; we rewrote one module.",
    "The benchmark lied until we ran it on production-sized data.",
    "Small pull requests got reviewed; big ones got approved.",
    "We wrote down the decision so that future us would know why.",
    "Backpressure is a feature, not a failure.",
    "After a week the new design felt obvious, which is the best sign.",
    "The error messages are part of the interface.",
    "Nothing is as permanent as a temporary workaround.",
    "We timed every step and sorted the list.",
    "The on-call rotation got quieter the month after.",
    "A good default beats a good option.",
    "The hardest part was agreeing on what done meant.",
    "We shipped it on a Tuesday and went home on time.",
    "There is still a lot to do, and that is fine.",
    "Start with the data model; the rest follows.",
    "In hindsight, the warning signs were all in the logs.",
];

/// Sentences of comments.
pub(super) const COMMENT_SENTENCES: &[&str] = &[
    "Great write-up!",
    "This saved me hours, thank you.",
    "Have you tried doing it with a single query?",
    "We hit exactly the same problem last year.",
    "I disagree with the second section, but it is well argued.",
    "Bookmarked.",
    "Could you share the benchmark code?",
    "A diagram would help here.",
    "Clear and to the point.",
    "How did this work out after a few months?",
    "Sharing this with my team.",
    "What about the failure case when the network drops?",
    "This is the explanation I was looking for.",
    "Nice, but it does not scale past one machine.",
    "Small nit: the link at the end is broken.",
    "Thanks for writing the trade-offs down honestly.",
    "We went the other way and regretted it.",
    "Any plans for a follow-up post?",
    "The last paragraph is the important one.",
    "Simple and effective.",
    "I learned something today.",
    "Did you measure memory use as well?",
    "Strong agree on the testing part.",
    "Interesting approach!",
    "This matches what we see in production.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_fit_the_validation_rules() {
        use crate::domain::validation;
        for tag in TAGS {
            assert_eq!(
                validation::tags(&[tag.to_owned()]),
                Ok(vec![tag.to_owned()])
            );
        }
        let longest_name = FIRST_NAMES.iter().map(|n| n.len()).max().unwrap()
            + 1
            + LAST_NAMES.iter().map(|n| n.len()).max().unwrap();
        // Room for ids up to 10^11 in a 32-character username.
        assert!(
            longest_name + 11 <= validation::USERNAME_MAX,
            "{longest_name}"
        );
        for word in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(word.chars().all(|c| c.is_ascii_alphabetic()), "{word}");
        }
    }
}
