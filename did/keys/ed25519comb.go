package keys

import (
	"sync"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
)

// This file computes Ed25519's check R = [s]B + [k](-A) from two tables
// of fixed multiples, one of the base point B and one of a remembered
// key's -A, instead of edwards25519's VarTimeDoubleScalarBaseMult, which
// builds a small table of -A on every call and spends 253 doublings.
//
// A table of a point P holds j·256^i·P for i in 0..31 and j in 1..8, in
// affine "Niels" form (y+x, y-x, 2d·x·y). A scalar written in 64 signed
// base-16 digits e_0..e_63 (each in -8..8) is then
//
//	Σ e_i·16^i·P = 16·Σ_{i odd} e_i·256^{(i-1)/2}·P + Σ_{i even} e_i·256^{i/2}·P,
//
// so both products together cost one table addition per non-zero digit
// of s and of k (about 120) and four doublings, against 253 doublings
// and about 70 additions. The point formulas are those of Hisil, Wong,
// Carter and Dawson, "Twisted Edwards Curves Revisited" (2008), for
// a = -1 in extended coordinates, which are complete on edwards25519
// (d is not a square): every point of the curve, small-order ones
// included, is added and doubled the same way, as edwards25519 does.

// niels is an affine point (x, y) as y+x, y-x and 2d·x·y.
type niels struct {
	yPlusX, yMinusX, xy2d field.Element
}

// combTable holds j·256^i·P at [i][j-1] (see the file's comment).
type combTable [32][8]niels

// extended is a point in extended coordinates (X:Y:Z:T), x = X/Z,
// y = Y/Z, x·y = T/Z.
type extended struct {
	X, Y, Z, T field.Element
}

// completed is an intermediate result (X:Y:Z:T) with x = X/Z and
// y = Y/T, as the addition and doubling formulas leave it.
type completed struct {
	X, Y, Z, T field.Element
}

// d2 is 2·d, d = -121665/121666, the curve constant.
var d2 = func() *field.Element {
	var n, m, d field.Element
	n.SetBytes(le32(121665))
	m.SetBytes(le32(121666))
	d.Multiply(&n, m.Invert(&m))
	d.Negate(&d)
	return d.Add(&d, &d)
}()

// le32 is v as a 32-byte little-endian field encoding.
func le32(v uint32) []byte {
	b := make([]byte, 32)
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return b
}

// baseTable is the table of the base point B, built on first use.
var baseTable = sync.OnceValue(func() *combTable {
	return newCombTable(edwards25519.NewGeneratorPoint())
})

// newCombTable builds p's table: 224 additions and 155 doublings with
// edwards25519, and one field inversion for the 256 points together
// (Montgomery's trick), 2.5 to 4 checks' worth, so a key gets one only
// once it is seen often (verifyEd25519). Its 80 KiB of scratch space is
// on the heap, not on the stack of the request that pays for it.
func newCombTable(p *edwards25519.Point) *combTable {
	scratch := new(struct {
		pts        [32][8]edwards25519.Point
		xs, ys, zs [256]field.Element
		prefix     [257]field.Element
	})
	pts := &scratch.pts
	base := new(edwards25519.Point).Set(p)
	for i := range 32 {
		pts[i][0].Set(base)
		for j := 1; j < 8; j++ {
			pts[i][j].Add(&pts[i][j-1], base)
		}
		if i < 31 {
			// 256·base: 8·base (the last entry) doubled five times.
			base.Add(&pts[i][7], &pts[i][7])
			for range 4 {
				base.Add(base, base)
			}
		}
	}
	// Affine coordinates: one inversion for every Z (prefix products).
	xs, ys, zs, prefix := &scratch.xs, &scratch.ys, &scratch.zs, &scratch.prefix
	prefix[0].One()
	for n := range 256 {
		X, Y, Z, _ := pts[n/8][n%8].ExtendedCoordinates()
		xs[n].Set(X)
		ys[n].Set(Y)
		zs[n].Set(Z)
		prefix[n+1].Multiply(&prefix[n], Z)
	}
	var inv field.Element
	inv.Invert(&prefix[256])
	t := new(combTable)
	for n := 255; n >= 0; n-- {
		var zinv, x, y field.Element
		zinv.Multiply(&inv, &prefix[n]) // 1/Z_n
		inv.Multiply(&inv, &zs[n])      // 1/(Z_0···Z_{n-1})
		x.Multiply(&xs[n], &zinv)
		y.Multiply(&ys[n], &zinv)
		e := &t[n/8][n%8]
		e.yPlusX.Add(&y, &x)
		e.yMinusX.Subtract(&y, &x)
		e.xy2d.Multiply(&x, &y)
		e.xy2d.Multiply(&e.xy2d, d2)
	}
	return t
}

// signedRadix16 writes the scalar with little-endian encoding b (below
// 2^255) in 64 signed base-16 digits e with Σ e_i·16^i equal to it:
// e_0..e_62 in -8..7, e_63 in 0..8.
func signedRadix16(b *[32]byte) [64]int8 {
	var e [64]int8
	for i, v := range b {
		e[2*i] = int8(v & 15)
		e[2*i+1] = int8(v >> 4)
	}
	for i := range 63 {
		carry := (e[i] + 8) >> 4
		e[i] -= carry << 4
		e[i+1] += carry
	}
	return e
}

// addNiels sets r = p + q (q negated when neg).
func (r *completed) addNiels(p *extended, q *niels, neg bool) {
	var ypx, ymx, a, b, c, d field.Element
	ypx.Add(&p.Y, &p.X)
	ymx.Subtract(&p.Y, &p.X)
	if neg { // -(x, y) = (-x, y): y+x and y-x swap, 2d·x·y changes sign
		a.Multiply(&ypx, &q.yMinusX)
		b.Multiply(&ymx, &q.yPlusX)
	} else {
		a.Multiply(&ypx, &q.yPlusX)
		b.Multiply(&ymx, &q.yMinusX)
	}
	c.Multiply(&q.xy2d, &p.T)
	d.Add(&p.Z, &p.Z)
	r.X.Subtract(&a, &b)
	r.Y.Add(&a, &b)
	if neg {
		r.Z.Subtract(&d, &c)
		r.T.Add(&d, &c)
	} else {
		r.Z.Add(&d, &c)
		r.T.Subtract(&d, &c)
	}
}

// double sets r = 2·p, using p's X, Y and Z only.
func (r *completed) double(p *extended) {
	var xx, yy, zz2, s field.Element
	xx.Square(&p.X)
	yy.Square(&p.Y)
	zz2.Square(&p.Z)
	zz2.Add(&zz2, &zz2)
	s.Add(&p.X, &p.Y)
	s.Square(&s)
	r.Y.Add(&yy, &xx)
	r.Z.Subtract(&yy, &xx)
	r.X.Subtract(&s, &r.Y)
	r.T.Subtract(&zz2, &r.Z)
}

// toExtended sets p to r in extended coordinates.
func (p *extended) toExtended(r *completed) {
	p.X.Multiply(&r.X, &r.T)
	p.Y.Multiply(&r.Y, &r.Z)
	p.Z.Multiply(&r.Z, &r.T)
	p.T.Multiply(&r.X, &r.Y)
}

// toProjective sets p's X, Y and Z to r (T is left stale: a doubling
// does not read it).
func (p *extended) toProjective(r *completed) {
	p.X.Multiply(&r.X, &r.T)
	p.Y.Multiply(&r.Y, &r.Z)
	p.Z.Multiply(&r.Z, &r.T)
}

// addDigit adds e·P to p, with P's table row t (nothing for e = 0).
func (p *extended) addDigit(t *[8]niels, e int8) {
	if e == 0 {
		return
	}
	var r completed
	if e > 0 {
		r.addNiels(p, &t[e-1], false)
	} else {
		r.addNiels(p, &t[-e-1], true)
	}
	p.toExtended(&r)
}

// combDoubleMult returns the encoding of [a]A + [b]B, for scalars a and
// b given by their canonical encodings and A by its table.
func combDoubleMult(a *[32]byte, tA *combTable, b *[32]byte) [32]byte {
	ea, eb := signedRadix16(a), signedRadix16(b)
	tB := baseTable()
	var p extended
	p.Y.One()
	p.Z.One() // the identity: (0:1:1:0)
	for i := 1; i < 64; i += 2 {
		p.addDigit(&tA[i/2], ea[i])
		p.addDigit(&tB[i/2], eb[i])
	}
	var r completed
	for range 3 {
		r.double(&p)
		p.toProjective(&r)
	}
	r.double(&p)
	p.toExtended(&r)
	for i := 0; i < 64; i += 2 {
		p.addDigit(&tA[i/2], ea[i])
		p.addDigit(&tB[i/2], eb[i])
	}
	// The encoding: y with x's sign in the top bit.
	var zinv, x, y field.Element
	zinv.Invert(&p.Z)
	x.Multiply(&p.X, &zinv)
	y.Multiply(&p.Y, &zinv)
	var out [32]byte
	copy(out[:], y.Bytes())
	out[31] |= byte(x.IsNegative() << 7)
	return out
}
