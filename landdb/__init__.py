"""Land database (cơ sở dữ liệu địa chính): parcels, map sheets, land use, admin units, history."""
