//! Reading a function's numeric settings from its environment variables, with messages that
//! name the variable, the accepted range and the value given (they go to `/runtime/init/error`).

/// A whole-number setting `name` whose value is `value`: unset or blank gives `default`, else it
/// must be a whole number from 1 to `max` (surrounding spaces are ignored).
pub fn whole_number(
    name: &str,
    value: Option<&str>,
    default: usize,
    max: usize,
) -> Result<usize, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "{name} must be a whole number from 1 to {max}, got {text:?}"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_blank_is_the_default() {
        assert_eq!(whole_number("N", None, 7, 10), Ok(7));
        assert_eq!(whole_number("N", Some(""), 7, 10), Ok(7));
        assert_eq!(whole_number("N", Some("  "), 7, 10), Ok(7));
    }

    #[test]
    fn accepts_one_to_max() {
        assert_eq!(whole_number("N", Some("1"), 7, 10), Ok(1));
        assert_eq!(whole_number("N", Some(" 10 "), 7, 10), Ok(10));
    }

    #[test]
    fn refuses_anything_else_naming_the_variable() {
        for bad in ["0", "-1", "11", "1e1", "2.0", "1 0", "many"] {
            assert_eq!(
                whole_number("SWEEP_MAX_X", Some(bad), 7, 10),
                Err(format!(
                    "SWEEP_MAX_X must be a whole number from 1 to 10, got {bad:?}"
                )),
                "{bad}"
            );
        }
    }
}
