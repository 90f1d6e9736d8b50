//! Name rules: the shared vectors, properties, and the generator of the browser's tables.

use caseless::Caseless;
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};

use super::unicode::{fold, is_default_ignorable};
use super::*;

#[test]
fn names_are_trimmed_and_counted_in_characters() {
    assert_eq!(member_name("  Alice \t"), Ok("Alice"));
    assert_eq!(member_name("Zoë"), Ok("Zoë"));
    let cjk = "名".repeat(32);
    assert_eq!(member_name(&cjk), Ok(cjk.as_str()));
    let emoji = "🦀".repeat(32);
    assert_eq!(member_name(&emoji), Ok(emoji.as_str()));
    assert!(member_name(&"名".repeat(33)).is_err());
    assert!(member_name(&"a".repeat(33)).is_err());
}

#[test]
fn empty_control_and_invisible_names_are_refused() {
    for bad in [
        "",
        "   ",
        "\u{3000}",
        "a\u{0}b",
        "a\nb",
        "\u{7f}x",
        "Ali\u{200B}ce",
        "\u{202E}ecilA",
        "a\u{2066}b",
        "\u{FEFF}Bob",
        "Bo\u{00AD}b",
        "x\u{E0041}",
    ] {
        assert!(member_name(bad).is_err(), "{bad:?} should be refused");
    }
    // Ordinary inner spaces and non-Latin scripts are fine.
    assert!(member_name("Mary Ann").is_ok());
    assert!(member_name("مريم").is_ok());
}

#[test]
fn name_keys_fold_case_and_whitespace() {
    assert_eq!(name_key("Alice"), name_key("ALICE"));
    assert_eq!(name_key("Al  ice"), name_key("al ice"));
    assert_eq!(name_key("ÉLODIE"), name_key("élodie"));
    assert_ne!(name_key("Alice"), name_key("Alicia"));
}

/// tests/vectors/names.json, shared with the browser client's unit test.
#[derive(serde::Deserialize)]
struct Vectors {
    collide: Vec<Pair>,
    distinct: Vec<Pair>,
    refused: Vec<Refused>,
    accepted: Vec<Accepted>,
}
#[derive(serde::Deserialize)]
struct Pair {
    a: String,
    b: String,
    why: String,
}
#[derive(serde::Deserialize)]
struct Refused {
    name: String,
    why: String,
}
#[derive(serde::Deserialize)]
struct Accepted {
    name: String,
    shown: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("../../../tests/vectors/names.json")).unwrap()
}

#[test]
fn name_vectors() {
    let v = vectors();
    for Pair { a, b, why } in &v.collide {
        assert_eq!(name_key(a), name_key(b), "{a:?} ~ {b:?}: {why}");
    }
    for Pair { a, b, why } in &v.distinct {
        assert_ne!(name_key(a), name_key(b), "{a:?} / {b:?}: {why}");
    }
    for Refused { name, why } in &v.refused {
        assert!(
            member_name(name).is_err(),
            "{name:?} should be refused: {why}"
        );
    }
    for a in &v.accepted {
        assert_eq!(member_name(&a.name), Ok(a.shown.as_str()), "{:?}", a.name);
    }
}

#[test]
fn look_alike_names_cannot_both_be_present() {
    // Refused outright, so it can never stand beside `Alice`.
    assert!(member_name("\u{410}lice").is_err());
    // All-Cyrillic look-alikes are single-script, so the key catches them.
    assert_eq!(name_key("\u{440}\u{430}\u{443}"), name_key("pay"));
}

#[test]
fn the_only_blank_non_space_is_braille_blank() {
    let looks_blank = |c: char| {
        let skeleton: String = unicode_security::skeleton(&c.to_string()).collect();
        !c.is_whitespace() && !is_default_ignorable(c) && skeleton.chars().all(char::is_whitespace)
    };
    let blank: Vec<char> = (0..=0x10FFFF_u32)
        .filter_map(char::from_u32)
        .filter(|&c| looks_blank(c))
        .collect();
    assert_eq!(blank, BLANK);
}

/// public/shared/names-data.js: the tables the browser's `nameKey` needs, generated from the
/// crates `name_key` uses, so client and server agree on every character and not only on the
/// vectors. FOLD is full case folding per character; SKELETON is the UTS #39 prototype of every
/// character that can reach the skeleton in `name_key` (those `fold` leaves alone); IGNORABLE is
/// Default_Ignorable_Code_Point, which the skeleton drops, as ranges. FOLD and SKELETON are
/// packed (see `pack`), and `unpack` makes them objects again when the module loads.
fn names_data_js() -> String {
    let (mut fold_map, mut skeleton_map) = (Vec::new(), Vec::new());
    let mut ignorable: Vec<(char, char)> = Vec::new();
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        let s = c.to_string();
        let folded: String = s.chars().default_case_fold().collect();
        if folded != s {
            fold_map.push((c, folded.clone()));
        }
        if is_default_ignorable(c) {
            match ignorable.last_mut() {
                Some((_, end)) if *end as u32 + 1 == c as u32 => *end = c,
                _ => ignorable.push((c, c)),
            }
        } else if folded == s && s.nfkd().eq(s.chars()) {
            let skeleton: String = unicode_security::skeleton(&s).collect();
            if skeleton != s {
                skeleton_map.push((c, skeleton));
            }
        }
    }
    let ignorable: String = ignorable
        .iter()
        .map(|&(a, b)| format!("\\u{{{:x}}}-\\u{{{:x}}}", a as u32, b as u32))
        .collect();
    // Every script some character has, by its ISO 15924 code (what `\p{scx=…}` takes).
    let mut scripts: Vec<Script> = (0..=0x10FFFF_u32)
        .filter_map(char::from_u32)
        .map(|c| c.script())
        .filter(|s| !matches!(s, Script::Common | Script::Inherited | Script::Unknown))
        .collect();
    scripts.sort_by_key(|s| s.short_name());
    scripts.dedup();
    let codes = |keep: &dyn Fn(&Script) -> bool| -> String {
        let codes: Vec<&str> = scripts
            .iter()
            .filter(|s| keep(s))
            .map(|s| s.short_name())
            .collect();
        codes.join(" ")
    };
    let v = |(a, b, c): (u64, u64, u64)| format!("{a}.{b}.{c}");
    let header = format!(
        "// Generated from the crates src/validate.rs uses (case folding: Unicode {}, \
         confusables: Unicode {}, scripts: Unicode {}).\n// Do not edit: run \
         `CHATTERLY_WRITE_NAMES_DATA=1 cargo test --lib names_data`.\n",
        v(caseless::UNICODE_VERSION),
        v(unicode_security::UNICODE_VERSION),
        v(unicode_script::UNICODE_VERSION),
    );
    [
        header.as_str(),
        "\n/** Full case folding of each character that changes. */\nexport const FOLD = unpack('",
        &pack(&fold_map, true),
        "');\n\n/** UTS #39 prototype of each NFKD-stable character that changes. */\n\
         export const SKELETON = unpack('",
        &pack(&skeleton_map, false),
        "');\n\n/** Default_Ignorable_Code_Point: refused in names, dropped from skeletons. */\n\
         export const IGNORABLE = /[",
        &ignorable,
        "]/u;\n\n/** Every script, and those UTS #31 recommends (for scripts.js). */\n\
         export const SCRIPTS = '",
        &codes(&|_| true),
        "';\nexport const RECOMMENDED = '",
        &codes(&|s| s.is_recommended()),
        "';\n",
        UNPACK_JS,
    ]
    .concat()
}

/// A table of characters as two comma-separated lists, keys `|` values, in base 36: each key as
/// its step from the previous key; each value as `=` and its code points (`.`-joined), or, when
/// `relative` and it is one code point, as its signed step from its key (case pairs repeat the
/// same few steps). ASCII only: the Worker's bundler escapes any other character in six to ten
/// bytes, and JSON-like entries cost the upload about three times as much (issue 18's budget).
fn pack(entries: &[(char, String)], relative: bool) -> String {
    let b36 = |n: i64| {
        let (mut n, mut digits) = (n.unsigned_abs(), Vec::new());
        loop {
            digits.push(char::from_digit((n % 36) as u32, 36).unwrap_or('0'));
            n /= 36;
            if n == 0 {
                break;
            }
        }
        digits.iter().rev().collect::<String>()
    };
    let signed = |n: i64| format!("{}{}", if n < 0 { "-" } else { "" }, b36(n));
    let (mut keys, mut values, mut previous) = (Vec::new(), Vec::new(), 0i64);
    for (key, value) in entries {
        let key = *key as i64;
        keys.push(b36(key - previous));
        previous = key;
        let mut chars = value.chars();
        values.push(match (chars.next(), chars.next()) {
            (Some(one), None) if relative => signed(one as i64 - key),
            _ => {
                let points: Vec<String> = value.chars().map(|c| b36(c as i64)).collect();
                format!("={}", points.join("."))
            }
        });
    }
    format!("{}|{}", keys.join(","), values.join(","))
}

/// The decoder of `pack`, appended to names-data.js (a function declaration: hoisted above the
/// tables that call it).
const UNPACK_JS: &str = "
/** A table `pack` (src/validate/names/tests.rs) made, as an object again. */
function unpack(packed) {
  const [keys, values] = packed.split('|').map((list) => list.split(','));
  const table = {};
  let key = 0;
  for (let i = 0; i < keys.length; i++) {
    key += Number.parseInt(keys[i], 36);
    const value = values[i];
    table[String.fromCodePoint(key)] =
      value[0] === '='
        ? String.fromCodePoint(...value.slice(1).split('.').map((c) => Number.parseInt(c, 36)))
        : String.fromCodePoint(key + Number.parseInt(value, 36));
  }
  return table;
}
";

/// `names_data_js` leaves out the skeleton of characters `fold` changes: none reaches it.
#[test]
fn folded_text_is_made_of_fold_stable_characters() {
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
        for f in fold(std::iter::once(c)).chars() {
            let s = f.to_string();
            assert!(s.nfkd().eq(s.chars()), "{c:?} folds to {f:?}: NFKD");
            assert!(
                s.chars().default_case_fold().eq(s.chars()),
                "{c:?} to {f:?}"
            );
        }
    }
}

#[test]
fn names_data_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/public/shared/names-data.js");
    let data = names_data_js();
    if std::env::var_os("CHATTERLY_WRITE_NAMES_DATA").is_some() {
        std::fs::write(path, &data).unwrap();
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        current == data,
        "{path} is stale: run CHATTERLY_WRITE_NAMES_DATA=1 cargo test --lib names_data"
    );
}

/// Letters whose case, normalization and look-alikes matter, plus spaces and marks.
fn name_chars() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        "[a-zA-Z0-9 ßſéÉëΣσςΟοАаРрІі\u{0301}\u{0308}\u{00A0}\u{3000}ﬁＡａ]{0,12}",
    )
    .unwrap()
}

proptest! {
    #[test]
    fn keys_ignore_normalization_form(s in name_chars()) {
        let key = name_key(&s);
        prop_assert_eq!(&key, &name_key(&s.nfc().collect::<String>()));
        prop_assert_eq!(&key, &name_key(&s.nfd().collect::<String>()));
        prop_assert_eq!(&key, &name_key(&s.nfkc().collect::<String>()));
    }

    #[test]
    fn keys_ignore_case(s in name_chars()) {
        let key = name_key(&s);
        prop_assert_eq!(&key, &name_key(&s.to_uppercase()));
        prop_assert_eq!(&key, &name_key(&s.to_lowercase()));
    }

    #[test]
    fn caseless_matches_share_a_key(a in name_chars(), b in name_chars()) {
        if caseless::compatibility_caseless_match_str(&a, &b) {
            prop_assert_eq!(name_key(&a), name_key(&b));
        }
    }

    #[test]
    fn keys_collapse_whitespace(a in "[a-z]{1,5}", b in "[a-z]{1,5}", gap in "[ \u{00A0}\u{3000}]{1,4}") {
        prop_assert_eq!(name_key(&format!("{a}{gap}{b}")), name_key(&format!(" {a} {b} ")));
    }

    #[test]
    fn cyrillic_look_alikes_share_a_key(s in "[aceopxy]{1,10}") {
        let cyrillic: String = s.chars().map(|c| match c {
            'a' => 'а', 'c' => 'с', 'e' => 'е', 'o' => 'о', 'p' => 'р', 'x' => 'х', _ => 'у',
        }).collect();
        prop_assert!(member_name(&cyrillic).is_ok());
        prop_assert_eq!(name_key(&s), name_key(&cyrillic));
    }

    #[test]
    fn any_input_is_checked_without_panicking(s in any::<String>()) {
        if let Ok(name) = member_name(&s) {
            prop_assert!(!name_key(name).is_empty());
        }
    }
}
