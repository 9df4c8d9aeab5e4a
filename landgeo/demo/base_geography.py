"""Base geography of the demo (nền địa lý): boundaries, hydrography, transport, buildings, built-up areas,
contours, spot heights, land cover and place names, drawn from the frame, networks and parcels that
:class:`landgeo.demo.synth.Builder` made — the base-geography half of the builder."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import MultiPolygon, Point

from landgeo.demo.dataset import AREA_SIZE, COMMUNES, GRID, PROVINCE_CODE, Layer


class BaseGeography:
    """The base-geography layers; mixed into the builder, whose state (``rng``, ``communes``, ``villages``,
    ``parcel_records`` …) and ``_shift`` it reads."""

    def _themes(self) -> dict[str, Layer]:
        rng = self.rng
        themes: dict[str, Layer] = {}
        a, b = COMMUNES
        pa, pb = self.communes[a.code], self.communes[b.code]
        shared = shapely.line_merge(shapely.intersection(pa.boundary, pb.boundary, grid_size=GRID))
        lines, rows = [shared], [{"madoituong": "AA03", "ten": f"Địa giới xã {a.name} - xã {b.name}",
                                  "cap": "commune", "left_code": a.code, "right_code": b.code}]
        for c, poly in ((a, pa), (b, pb)):
            outer = shapely.difference(poly.boundary, shared.buffer(0.01))
            lines.append(shapely.line_merge(outer))
            rows.append({"madoituong": "AA03", "ten": f"Địa giới xã {c.name}", "cap": "commune",
                         "left_code": c.code, "right_code": None})
        themes["boundaries"] = Layer("DiaGioiHanhChinh", "MultiLineString", self._lines(lines), rows)

        rlines, rrows = [], []
        for line, width, klass, name, surface in self.roads:
            rlines.append(line)
            rrows.append({"madoituong": {"tỉnh": "GA02", "xã": "GA04", "ngõ": "GA05"}.get(klass, "GA06"),
                          "ten": name, "loaiduong": klass, "matduong": surface, "chieurong": width})
        themes["roads"] = Layer("DuongBo", "MultiLineString", self._lines(rlines), rrows)

        road0 = self.roads[0][0]
        crossing = road0.intersection(self.river_line)
        crossing = shapely.get_parts(crossing)[0]  # where the provincial road crosses the river
        bridge = road0.intersection(crossing.buffer(30))
        themes["bridges"] = Layer("Cau", "MultiLineString", self._lines([bridge]),
                                  [{"madoituong": "GC01", "ten": "Cầu Lai Xá", "taitrong": 30.0}])
        rail = self.railway[0].intersection(self.area)
        themes["railways"] = Layer("DuongSat", "MultiLineString", self._lines([rail]),
                                   [{"madoituong": "GB01", "ten": "Đường sắt vành đai phía Tây", "khoduong": 1435}])

        hl = [self.river_line.intersection(self.area)] + [c[0] for c in self.canals]
        hr = [{"madoituong": "LA01", "ten": "Sông Nhuệ", "loai": "sông", "chieurong": self.river_width}]
        hr += [{"madoituong": "LB02" if kind == "mương" else "LB01", "ten": name, "loai": kind, "chieurong": width}
               for _line, width, kind, name in self.canals]
        themes["hydro-lines"] = Layer("ThuyHeDuong", "MultiLineString", self._lines(hl), hr)

        ponds = [r["geom"] for r in self.parcel_records if r["codes"] == ["NTS"] and r["geom"].area > 400]
        ha = [self.river_poly] + ponds
        har = [{"madoituong": "LA02", "ten": "Sông Nhuệ", "loai": "sông"}]
        har += [{"madoituong": "LD01", "ten": None, "loai": "ao"} for _ in ponds]
        themes["hydro-areas"] = Layer("ThuyHeVung", "MultiPolygon", self._polys(ha), har)

        themes["buildings"] = self._buildings()
        themes["built-up-areas"] = Layer(
            "KhuDanCu", "MultiPolygon", self._polys([v for _n, _c, v in self.villages]),
            [{"madoituong": "DA01", "ten": n} for n, _c, _v in self.villages])

        levels = np.arange(6.5, 9.0, 0.5)
        clines, crows = [], []
        land = self.area.difference(self.river_poly)
        for e in levels:
            d = -250.0 * math.log((e - 6.0) / 3.0)
            ring = self.river_line.buffer(d, quad_segs=16).boundary.intersection(land)
            if not ring.is_empty:
                clines.append(ring)
                crows.append({"madoituong": "CA01" if e % 1 else "CA02", "docao": float(e)})
        themes["contours"] = Layer("DuongBinhDo", "MultiLineString", self._lines(clines), crows)

        gx, gy = np.meshgrid(np.arange(50, AREA_SIZE[0], 140.0), np.arange(50, AREA_SIZE[1], 140.0))
        pts = shapely.points(gx.ravel() + rng.normal(0, 25, gx.size), gy.ravel() + rng.normal(0, 25, gx.size))
        keep = shapely.contains(land, pts)
        pts = pts[keep]
        d = shapely.distance(self.river_line, pts)
        elev = np.round(6.0 + 3.0 * np.exp(-d / 250.0) + rng.normal(0, 0.12, len(pts)), 2)
        themes["spot-heights"] = Layer("DiemDoCao", "Point", list(self._shift(pts)),
                                       [{"madoituong": "CB01", "docao": float(z)} for z in elev])

        cps = [(420, 300), (1300, 1800), (2600, 600), (2000, 1750)]
        cp_geoms = [Point(x + rng.normal(0, 3), y + rng.normal(0, 3)) for x, y in cps]
        cp_rows = []
        for k, p in enumerate(cp_geoms):
            z = 6.0 + 3.0 * math.exp(-self.river_line.distance(p) / 250.0)
            cp_rows.append({"madoituong": "AB04", "ten": f"Điểm địa chính cơ sở {k + 1}",
                            "sohieudiem": f"10{4420 + 7 * k}", "caphang": "địa chính cơ sở", "docao": round(z, 3)})
        themes["control-points"] = Layer("DiemKhongChe", "Point", list(self._shift(cp_geoms)), cp_rows)

        themes["land-cover"] = self._land_cover()
        for layer in themes.values():
            for row in layer.rows:
                row.setdefault("tyle", 2000)
                row.setdefault("matinh", PROVINCE_CODE)
        return themes

    def _lines(self, geoms) -> list:
        out = []
        for g in self._shift(geoms):
            parts = [p for p in shapely.get_parts(shapely.line_merge(g) if g.geom_type != "LineString" else g)
                     if p.geom_type == "LineString" and p.length > 0]
            out.append(shapely.MultiLineString(parts))
        return out

    def _polys(self, geoms) -> list:
        return [MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
                for g in self._shift(geoms)]

    def _buildings(self) -> Layer:
        rng = self.rng
        recs = [r for r in self.parcel_records if "ONT" in r["codes"] or "special" in r]
        geoms = np.asarray([r["geom"] for r in recs], dtype=object)
        roads = shapely.union_all(np.asarray([p for p, code, _ in self.corridor_polys if code == "DGT"],
                                             dtype=object), grid_size=0.01)
        front = roads.buffer(13.0)
        shapely.prepare(front)
        inner = shapely.buffer(geoms, -0.8, join_style="mitre")
        houses = shapely.intersection(inner, front)
        out, rows = [], []
        names = {"TSC": "Trụ sở UBND xã", "DGD": "Trường tiểu học", "DYT": "Trạm y tế xã", "TIN": "Đình làng",
                 "TON": "Chùa", "DVH": "Nhà văn hóa thôn", "DTT": "Nhà thi đấu"}
        for r, house in zip(recs, houses, strict=True):
            if "special" in r:
                c = r["geom"].point_on_surface()
                house = shapely.intersection(r["geom"].buffer(-3), c.buffer(14, cap_style="square"))
            if house.is_empty:
                continue
            part = max(shapely.get_parts(house), key=lambda g: g.area)
            if part.geom_type != "Polygon" or not (20 < part.area < 700):
                continue
            part = shapely.set_precision(part.simplify(0.3), GRID)
            if part.is_empty or not part.is_valid:
                continue
            out.append(part)
            floors = 2 if "special" in r else int(rng.choice([1, 2, 2, 3, 3, 4]))
            rows.append({"madoituong": "DB01" if "special" not in r else "DB02",
                         "ten": names.get(r.get("special")), "sotang": floors})
        return Layer("Nha", "MultiPolygon", self._polys(out), rows)

    def _land_cover(self) -> Layer:
        classes = {"lúa": {"LUC", "LUK", "BHK"}, "cây hằng năm": {"HNK"}, "cây lâu năm": {"CLN"},
                   "mặt nước": {"NTS", "SON", "DTL"},
                   "dân cư": {"ONT", "TSC", "DGD", "DYT", "TIN", "TON", "DVH", "DTT"}, "giao thông": {"DGT"}}
        geoms, rows = [], []
        for klass, codes in classes.items():
            members = [g for r, g in zip(self.parcel_records, self.clean_geoms, strict=True)
                       if r["codes"][0] in codes]
            if not members:
                continue
            u = shapely.coverage_union_all(np.asarray(members, dtype=object))
            for p in shapely.get_parts(u):
                if p.geom_type == "Polygon" and p.area > 50:
                    geoms.append(p)
                    rows.append({"madoituong": "PA01", "loaiphu": klass})
        return Layer("PhuBeMat", "MultiPolygon", self._polys(geoms), rows)

    def _place_names(self) -> Layer:
        pts, rows = [], []
        for c in COMMUNES:
            p = self.communes[c.code].point_on_surface()
            pts.append(p)
            rows.append({"madoituong": "HA01", "ten": f"Xã {c.name}", "loai": "xã"})
        for name, _code, v in self.villages:
            pts.append(v.centroid)
            rows.append({"madoituong": "HA02", "ten": name, "loai": "thôn"})
        for name, xy in self.FIELD_NAMES:
            pts.append(Point(xy))
            rows.append({"madoituong": "HA03", "ten": f"Xứ đồng {name}", "loai": "xứ đồng"})
        pts.append(self.river_line.interpolate(0.3, normalized=True))
        rows.append({"madoituong": "HA04", "ten": "Sông Nhuệ", "loai": "sông"})
        return Layer("place_names", "Point", list(self._shift(pts)), rows)
