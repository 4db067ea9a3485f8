//! Top-level blocks that are exported as Verilog: the whole NIC per PHY (`nic`), and its
//! receive and transmit paths alone per PHY.
pub mod drive;
pub mod engines;
pub mod nic;
pub mod rx_path;
pub mod tx_path;

use crate::verilog::export::{export, VerilogModule};

/// Every exported top, freshly generated, in a stable order.
pub fn all() -> Vec<VerilogModule> {
    vec![
        export("nic_manchester", &mut nic::NicManchesterTop::default()),
        export("nic_gmii", &mut nic::NicGmiiTop::default()),
        export("nic_mii", &mut nic::NicMiiTop::default()),
        export("nic_rx_manchester", &mut rx_path::RxManchesterTop::default()),
        export("nic_rx_gmii", &mut rx_path::RxGmiiTop::default()),
        export("nic_rx_mii", &mut rx_path::RxMiiTop::default()),
        export("nic_tx_manchester", &mut tx_path::TxManchesterTop::default()),
        export("nic_tx_gmii", &mut tx_path::TxGmiiTop::default()),
        export("nic_tx_mii", &mut tx_path::TxMiiTop::default()),
    ]
}
