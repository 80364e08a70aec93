// A local metric projection fit to the site: equirectangular about the site's centre
// (x metres east, y metres north). Over a city-sized site (tens of km) the distortion is
// well under 1 %, enough for a picture; distances that matter are computed by the service.

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export class LocalProjection {
  constructor(lat0Deg, lon0Deg) {
    this.lat0Deg = lat0Deg;
    this.lon0Deg = lon0Deg;
    this.cosLat0 = Math.cos(lat0Deg * RAD);
  }

  /** [east_m, north_m] of a WGS84 position. */
  toMetres(latDeg, lonDeg) {
    return [
      (lonDeg - this.lon0Deg) * RAD * EARTH_RADIUS_M * this.cosLat0,
      (latDeg - this.lat0Deg) * RAD * EARTH_RADIUS_M,
    ];
  }

  /** [lat_deg, lon_deg] of a local position. */
  toLatLon(eastM, northM) {
    return [
      this.lat0Deg + northM / EARTH_RADIUS_M / RAD,
      this.lon0Deg + eastM / (EARTH_RADIUS_M * this.cosLat0) / RAD,
    ];
  }
}

/** A round length for a scale bar no longer than maxM: 1, 2 or 5 × 10^n metres. */
export function roundLengthM(maxM) {
  const base = 10 ** Math.floor(Math.log10(maxM));
  for (const step of [5, 2, 1]) {
    if (step * base <= maxM) return step * base;
  }
  return base;
}

export function formatDistance(metres) {
  return metres >= 1000 ? `${(metres / 1000).toLocaleString("en-US")} km` : `${Math.round(metres)} m`;
}
