//! Top-level blocks that are exported as Verilog: the receive path and transmit path per PHY.
