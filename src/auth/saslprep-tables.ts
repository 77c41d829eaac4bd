// Unicode 3.2 data that SASLprep (RFC 3454/4013) is pinned to, where today's Unicode would disagree.
//
// Generated with Python's unicodedata.ucd_3_2_0, the Unicode 3.2 database: UNASSIGNED_32 lists the
// ranges of general category Cn (RFC 3454 table A.1 plus the non-characters), RAND_AL the code points
// of bidi class R or AL (table D.1). Modern JavaScript only knows the current Unicode version, and
// characters assigned since 3.2 (emoji, for one) must still count as unassigned to agree with PostgreSQL.

// Encoding: comma-separated hex "gap[+length]"; gap is from the previous range's end (the first from
// 0), length is end - start and is left out for single code points.
const UNASSIGNED_32_ENCODED =
  '221,13+1b,5f+1,40+10,51+f,11+3,3+3,2+2,2+4,8,2,15,2d,28+8,88,48,27+1,3+5,11+20,27+1,8,28,3+5,12,18,b' +
  '+a,1c+4,6+16,2+d,2+2,2,1b+4,17+9,8f+1,10,f,1f+2,1c+34,33+14e,4,36+1,13+1,6+2,1a+f,4,9+1,3+1,17,8,2+2' +
  ',5+1,2,8+1,3+1,4+8,2+3,3,6+1,16+6,2+1,7+3,3+1,17,8,3,3,3+1,2,6+3,3+1,4+a,5,2+6,10+b,4,8,2,4,17,8,3,6' +
  '+1,b,4,4+1,2+e,2+4,b+10,4,9+1,3+1,17,8,3+1,5+1,9+2,3+1,4+7,3+3,3,4+3,c+10,3,7+2,4,5+2,3,2,3+2,3+2,4+' +
  '2,9,4+3,6+2,4,5+8,2+e,d+d,4,9,4,18,b,6+3,8,4,5+6,3+8,3+3,b+11,3,9,4,18,b,6+3,8,4,5+6,3+6,2,3+3,b+11,' +
  '3,9,4,18,11+3,7+1,4,5+8,2+7,3+3,b+11,3,13+2,19,a,2+1,8+2,2+3,7,2,9+11,4+b,3b+3,1e+24,3,2+1,3,2+1,2+5' +
  ',5,8,4,2,2+1,3,e,4+1,6,2,7+1,b+1,3+21,49,23+5,1c+3,9,25,10+1,2+2f,23,6,3,8+2,5+5,1b+45,27+9,2a+1,2+3' +
  ',5b+4,45+4,53+5,8,40,2,5+1,8,2,5+1,28,2,5+1,20,2,5+1,8,2,5+1,8,8,18,20,2,5+1,8,28,14+5,1d+22,56+b,27' +
  '7+8,1e+2,52+e,e,8+a,18+8,15+b,e,4,3+b,5e+2,b+15,10,b+5,59+7,2b+555,9d+3,5b+5,17+1,7+1,27+1,7+1,9,2,2' +
  ',2,20+1,36,10,f+1,7,14+1,4,a,54+3,2+6,6+5,9+1,1c+10,13+1d,1c+14,3c+1,10+6,32+b,240+30,28+18,c+14,a0,' +
  '115+1,3,66+1,b+76,5,5+1,1d,24,2,5+2,2,8+1,35+2,19,f+10,1d+3,311+37f,1b,5a+b,d7+19,d+3,41,57+1,68+4,2' +
  '9+3,5f,29+37,2e+2,25+c,2c+2,4e+3,30,78+3,64+1,20,19b7+49,51a7+59,48e+2,38+738,2ba5+5b,222f+1,3c+94,8' +
  '+b,6+4,1b,6,2,3,3,6d+20,16e+f,41+1,37+27,e+2,11+f,5+b,18+1,b,14,5+3,6,88+1,2,bf+2,7+1,7+1,7+1,4+2,8,' +
  '8+9,6+301,20,5+b,1c+b4,27+1,27+cbb1,f7+9,28+2,b5+221,56,48,3+1,2+1,3+1,5,d,2,5,3,42,5+1,9,8,1d,5,6,2' +
  '+2,8,153+3,123+3,33+27ff,a6d8+5128,21f+b05e2,2+1d,61+ff7f,ffff+1,ffff+1';

function decodeRanges(encoded: string): Uint32Array {
  const parts = encoded.split(',');
  const out = new Uint32Array(parts.length * 2);
  let prev = 0;
  parts.forEach((part, i) => {
    const [gap, len = '0'] = part.split('+');
    const start = prev + parseInt(gap, 16);
    prev = start + parseInt(len, 16);
    out[2 * i] = start;
    out[2 * i + 1] = prev;
  });
  return out;
}

const UNASSIGNED_32 = decodeRanges(UNASSIGNED_32_ENCODED);

/** True if `cp` was unassigned in Unicode 3.2 (binary search over sorted, disjoint ranges). */
export function isUnassignedIn32(cp: number): boolean {
  let lo = 0;
  let hi = UNASSIGNED_32.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < UNASSIGNED_32[2 * mid]) hi = mid - 1;
    else if (cp > UNASSIGNED_32[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** RFC 3454 table D.1: characters with bidi property R or AL (all in the BMP in Unicode 3.2). */
export const RAND_AL =
  /[\u05BE\u05C0\u05C3\u05D0-\u05EA\u05F0-\u05F4\u061B\u061F\u0621-\u063A\u0640-\u064A\u066D-\u066F\u0671-\u06D5\u06DD\u06E5-\u06E6\u06FA-\u06FE\u0700-\u070D\u0710\u0712-\u072C\u0780-\u07A5\u07B1\u200F\uFB1D\uFB1F-\uFB28\uFB2A-\uFB36\uFB38-\uFB3C\uFB3E\uFB40-\uFB41\uFB43-\uFB44\uFB46-\uFBB1\uFBD3-\uFD3D\uFD50-\uFD8F\uFD92-\uFDC7\uFDF0-\uFDFC\uFE70-\uFE74\uFE76-\uFEFC]/u;
