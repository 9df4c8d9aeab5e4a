"""landgeo — Vietnam's land-parcel (thửa đất) and base-geography data platform."""

__version__ = "0.1.0"
