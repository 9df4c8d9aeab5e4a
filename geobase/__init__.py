"""National base geographic database (cơ sở dữ liệu nền địa lý quốc gia), QCVN 42:2020 themes."""
