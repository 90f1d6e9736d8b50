//! Reading wrangler `[vars]`: a var's number as Rust would parse it. The room's limits
//! (`crate::config`) and the files' (`crate::files::Limits`) are read through it.

/// A var's number, as `str::parse::<f64>` reads it (to the bit for up to 15 significant digits:
/// the forms and values a limit has), but through
/// serde_json's number parser: `parse::<f64>` alone brought core's decimal-to-float code and its
/// 11 KB table of powers of five into the Wasm (the upload budget, issue 18). The forms Rust takes
/// and JSON does not (`+5`, `.5`, `5.`, `007`) are made JSON first; `inf`/`NaN` stay `None` (the
/// callers drop non-finite values anyway).
pub fn number(v: &str) -> Option<f64> {
    let (sign, v) = match v.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", v.strip_prefix('+').unwrap_or(v)),
    };
    let (mantissa, exponent) = v.split_at(v.find(['e', 'E']).unwrap_or(v.len()));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let dot = if frac.is_empty() { "" } else { "." };
    serde_json::from_str::<f64>(&format!("{sign}{int}{dot}{frac}{exponent}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_rust_parses_them() {
        for v in [
            "0",
            "7",
            "007",
            "+5",
            "-3",
            "5.",
            ".5",
            "0.5",
            "2.25",
            "-0.0",
            "1e3",
            "1E3",
            "1e+3",
            "2.5e-2",
            "5.e2",
            "1e05",
            "60000",
            "86400000",
            "18446744073709551616",
            "0.1",
            "1.75",
            "",
            ".",
            "-",
            "+",
            "e5",
            ".e5",
            "+-5",
            "-+5",
            "--5",
            "5 5",
            "1e",
            "1e+",
            "0x10",
            "1_000",
            "5.5.5",
            "abc",
            "1,5",
            "inf",
            "-inf",
            "NaN",
            "infinity",
            " 5",
            "5%",
        ] {
            let rust = v.parse::<f64>().ok().filter(|n| n.is_finite());
            assert_eq!(number(v), rust, "{v:?}");
        }
    }
}
