//! Reading the front door's flags: one place for "needs a value", "is not a number" and the
//! options every subcommand shares (`--phy`, `--engine`, MAC addresses), so each error names
//! the flag and the text it did not understand.
use crate::model::engines::EngineChoice;
use crate::model::Phy;
use std::str::FromStr;

/// The flags of one subcommand, read in order:
/// `while let Some(flag) = args.next_flag() { match flag.as_str() { "--x" => ..., _ => return Err(args.unknown()) } }`.
pub struct Args<'a> {
    it: std::slice::Iter<'a, String>,
    flag: String,
}

impl<'a> Args<'a> {
    pub fn new(args: &'a [String]) -> Self {
        Args { it: args.iter(), flag: String::new() }
    }

    /// The next flag (remembered for the messages of the value readers).
    pub fn next_flag(&mut self) -> Option<String> {
        self.flag = self.it.next()?.clone();
        Some(self.flag.clone())
    }

    /// The error for a flag no `match` arm took.
    pub fn unknown(&self) -> String {
        format!("unknown option `{}`", self.flag)
    }

    /// The current flag's value.
    pub fn value(&mut self) -> Result<String, String> {
        self.it.next().cloned().ok_or_else(|| format!("{} needs a value", self.flag))
    }

    /// The current flag's value as a `T`; `what` describes a good value ("a number").
    pub fn parse<T: FromStr>(&mut self, what: &str) -> Result<T, String> {
        let v = self.value()?;
        v.parse().map_err(|_| format!("{}: `{v}` is not {what}", self.flag))
    }

    /// A `T` that also passes `ok`; `what` describes a good value.
    pub fn parse_where<T: FromStr>(&mut self, what: &str, ok: impl Fn(&T) -> bool) -> Result<T, String> {
        let v = self.value()?;
        v.parse().ok().filter(|x| ok(x)).ok_or_else(|| format!("{}: `{v}` is not {what}", self.flag))
    }

    /// One of `allowed` PHYs.
    pub fn phy(&mut self, allowed: &[Phy]) -> Result<Phy, String> {
        let v = self.value()?;
        let names: Vec<&str> = allowed.iter().map(|p| p.name()).collect();
        let list = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        };
        Phy::parse(&v).filter(|p| allowed.contains(p)).ok_or_else(|| format!("{}: `{v}` is not {list}", self.flag))
    }

    pub fn engine(&mut self) -> Result<EngineChoice, String> {
        let v = self.value()?;
        EngineChoice::parse(&v).ok_or_else(|| format!("{}: `{v}` is not auto, rust-hdl or verilator", self.flag))
    }

    /// A MAC address like `02:00:00:00:00:01`.
    pub fn mac(&mut self) -> Result<[u8; 6], String> {
        let v = self.value()?;
        parse_mac(&v).map_err(|e| format!("{}: {e}", self.flag))
    }
}

/// `02:00:00:00:00:01` → bytes; an error names the text.
pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || format!("`{s}` is not a MAC address like 02:00:00:00:00:01");
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (b, p) in mac.iter_mut().zip(parts) {
        if p.len() != 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_flag_and_the_text() {
        let argv: Vec<String> = ["--n", "x", "--phy", "rs232", "--mac", "02:00", "--frames"].map(String::from).to_vec();
        let mut a = Args::new(&argv);
        a.next_flag();
        assert_eq!(a.parse::<u32>("a whole number").unwrap_err(), "--n: `x` is not a whole number");
        a.next_flag();
        assert_eq!(a.phy(&[Phy::Gmii, Phy::Mii]).unwrap_err(), "--phy: `rs232` is not gmii or mii");
        a.next_flag();
        assert!(a.mac().unwrap_err().contains("is not a MAC address"));
        a.next_flag();
        assert_eq!(a.value().unwrap_err(), "--frames needs a value");
        assert_eq!(a.unknown(), "unknown option `--frames`");
        assert!(a.next_flag().is_none());
        assert_eq!(parse_mac("02:00:00:00:00:0a").unwrap(), [2, 0, 0, 0, 0, 10]);
    }
}
