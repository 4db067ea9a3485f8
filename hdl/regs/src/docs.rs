//! `docs/registers.md`, generated from the tables of this crate.
use crate::*;
use std::fmt::Write as _;

/// The command that regenerates the committed doc.
pub const REGEN_COMMAND: &str = "cargo run -p nic-regs --bin gen-docs > docs/registers.md";

fn bits(f: &Field) -> String {
    if f.width == 1 {
        format!("{}", f.lsb)
    } else {
        format!("{}:{}", f.msb(), f.lsb)
    }
}

/// The bytes of a ring entry a field lives in.
fn bytes(f: &Field) -> String {
    let (first, last) = (f.lsb / 8, f.msb() / 8);
    if first == last {
        format!("{first}")
    } else {
        format!("{first}..={last}")
    }
}

fn field_table(out: &mut String, fields: &[Field], with_reset: Option<u32>) {
    if with_reset.is_some() {
        out.push_str("| bits | field | access | reset | meaning |\n|---|---|---|---|---|\n");
    } else {
        out.push_str("| bits | bytes | field | meaning |\n|---|---|---|---|\n");
    }
    for f in fields {
        match with_reset {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {:#x} | {} |",
                    bits(f),
                    f.name,
                    f.access.name(),
                    f.get32(r),
                    f.doc
                );
            }
            None => {
                let _ = writeln!(out, "| {} | {} | `{}` | {} |", bits(f), bytes(f), f.name, f.doc);
            }
        }
    }
    out.push('\n');
}

/// The whole of `docs/registers.md`.
pub fn markdown() -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Register map and ring ABI\n\n\
         <!-- Generated from hdl/regs (crate nic-regs). Do not edit: run `{REGEN_COMMAND}`. -->\n\n\
         ABI version {}.{} (`VERSION`). One source of truth: the gateware's address decoder \
         (`hdl/src/csr.rs`), the driver's register accessors and this page all come from the \
         tables in `hdl/regs/src/`.\n",
        VERSION_MAJOR.get32(ABI_VERSION),
        VERSION_MINOR.get32(ABI_VERSION)
    );

    o.push_str("## BAR0\n\n");
    let _ = writeln!(
        o,
        "BAR0 is {BAR0_SIZE} bytes of 32-bit little-endian registers behind an AXI4-Lite slave. \
         Accesses are 32-bit; address bits 1:0 are ignored and byte write strobes are honoured. \
         An offset not listed answers **SLVERR** (a read returns 0, a write changes nothing). \
         Writes to read-only registers are ignored and answered OKAY. Bits outside the listed \
         fields read as 0 and ignore writes.\n"
    );
    o.push_str("Access kinds:\n\n");
    for a in [Access::Ro, Access::Rw, Access::W1c, Access::W1p, Access::RoLatch, Access::RoShadow] {
        let _ = writeln!(o, "- **{}**: {}", a.name(), a.meaning());
    }
    o.push('\n');

    o.push_str("### Summary\n\n| offset | name | access | reset | description |\n|---|---|---|---|---|\n");
    for r in REGISTERS {
        let _ = writeln!(
            o,
            "| `{:#05x}` | [`{}`](#{}) | {} | `{:#010x}` | {} |",
            r.offset,
            r.name,
            r.name.to_lowercase(),
            r.access.name(),
            r.reset,
            r.doc
        );
    }
    o.push('\n');

    o.push_str("### Registers and fields\n\n");
    for r in REGISTERS.iter().filter(|r| r.offset < COUNTER_BASE) {
        let _ = writeln!(
            o,
            "#### {}\n\n`{:#05x}`, {}, reset `{:#010x}`: {}.\n",
            r.name,
            r.offset,
            r.access.name(),
            r.reset,
            r.doc
        );
        field_table(&mut o, r.fields, Some(r.reset));
    }

    o.push_str("### Counters\n\n");
    let _ = writeln!(
        o,
        "Every counter is 64 bits, counts from reset and wraps at 2^64. Counter *i* (in the \
         order below) has `LO` at `{COUNTER_BASE:#05x} + 8i` and `HI` at `+4`. The counters \
         are kept in one table updated in turn, so a read includes every event counted at \
         least {COUNTER_LAG_CLOCKS} core clocks before it (and never goes backwards).\n\n\
         **Race-free read rule.** Read `LO`, then `HI` of the same counter. Reading `LO` \
         returns bits 31:0 and, in the same clock, copies bits 63:32 of the same counter value \
         into the one counter shadow; reading any `HI` returns the shadow. So the pair is one \
         snapshot even if the counter carries into bit 32 between the two reads. There is one \
         shadow for all counters: do not read another counter's `LO` between the two reads \
         (one reader at a time, as a driver does under its lock). `nic_regs::read_counter` \
         does exactly this.\n"
    );
    o.push_str("| LO | HI | counter | counts |\n|---|---|---|---|\n");
    for c in COUNTERS {
        let _ = writeln!(
            o,
            "| <a id=\"{}\"></a><a id=\"{}\"></a>`{:#05x}` | `{:#05x}` | `{}` | {} |",
            c.lo.name.to_lowercase(),
            c.hi.name.to_lowercase(),
            c.lo.offset,
            c.hi.offset,
            c.lo.name.trim_end_matches("_LO"),
            c.lo.doc
        );
    }
    o.push('\n');

    o.push_str("## Rings\n\n");
    o.push_str(
        "Four rings: RX descriptors (`RXD`), RX completions (`RXC`), TX descriptors (`TXD`), \
         TX completions (`TXC`). Each has 2^`LOG2_SIZE` entries of 16 bytes at its base address \
         (a multiple of 16, so an entry never crosses a 4 KiB page), `LOG2_SIZE` from 0 to 15.\n\n\
         Indices are free-running 16-bit counters: entry *i* is in slot *i* mod 2^`LOG2_SIZE`, \
         and a ring holds `producer - consumer` (mod 2^16) entries. On descriptor rings the host \
         produces (writes `PRODUCER` after filling slots) and the device consumes (`CONSUMER`, \
         read-only). On completion rings the device produces, and the host writes `CONSUMER` to \
         give slots back; the device never overwrites a slot the host has not given back.\n\n\
         **Phase bit.** The device writes completion *i* with `PHASE` = 1 when bit `LOG2_SIZE` \
         of *i* is 0, else 0: 1 on the first pass over the (zeroed) ring, flipping on each wrap, \
         as NVMe and Corundum do. The host keeps its own consumer index *c*; slot *c* holds a new \
         completion exactly when its `PHASE` equals that rule applied to *c* \
         (`nic_regs::phase_for_index`, `Completion::is_new`). The host therefore never reads a \
         device register on the fast path. `PHASE` is the last bit of the entry.\n\n\
         An entry is the little-endian 128-bit number of its 16 bytes (byte *k* is bits \
         8k+7..8k). Bits not listed in the tables below are reserved and written 0; \
         `Descriptor::decode` and `Completion::decode` reject an entry with a reserved bit set.\n\n",
    );
    o.push_str("| ring | base | host writes | device updates |\n|---|---|---|---|\n");
    for r in RINGS {
        let _ = writeln!(
            o,
            "| {:?} | `{:#05x}` | `{}` | `{}` |",
            r.ring,
            r.base_lo.offset,
            r.host_index().name,
            r.device_index().name
        );
    }
    o.push('\n');
    o.push_str("### Descriptor (RX and TX), 16 bytes\n\n");
    field_table(&mut o, &DESCRIPTOR_FIELDS, None);
    o.push_str("### Completion (RX and TX), 16 bytes\n\n");
    field_table(&mut o, &COMPLETION_FIELDS, None);

    o.push_str("## Computations both sides share\n\n");
    o.push_str(
        "- **Multicast hash.** The bin of a destination address is `crc32(dst) >> 26`, the \
         top 6 bits of the standard CRC-32 of its 6 bytes in wire order \
         (`nic_regs::multicast_bin`). Bin *b* is bit *b* of `MCAST_HASH_HI:MCAST_HASH_LO`.\n\
         - **Station address.** The first byte on the wire is bits 7:0 of `MAC_LO`, the fifth \
         is bits 7:0 of `MAC_HI` (`nic_regs::mac_to_words`).\n\
         - **Receive sum** (`CPL_CSUM`). The ones'-complement sum, not complemented, of the frame \
         bytes after the 14-byte Ethernet header, FCS excluded, as big-endian 16-bit words (an \
         odd last byte is a high byte), with end-around carry (`nic_regs::rx_sum`).\n",
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/registers.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == markdown(),
            "docs/registers.md is stale or missing: regenerate it with `{REGEN_COMMAND}` (from the repository root)"
        );
    }

    #[test]
    fn doc_names_every_register() {
        let md = markdown();
        for r in REGISTERS {
            assert!(md.contains(&format!("`{:#05x}`", r.offset)), "{}", r.name);
            assert!(md.contains(r.name), "{}", r.name);
        }
    }
}
