/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256/384/512 (FIPS 180-4) and HMAC (RFC 2104), written for ZONEMD over whole zones. */
#include "common/sha2.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha2_internal.h"

/* x86 SHA extensions (SHA-NI) make SHA-256 several times faster, which matters for TSIG on
 * every 64 KiB message of a transfer. Used only when the CPU says it has them. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHA_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* Round constants and initial values: the fractional parts of cube and square roots of
 * the first primes (FIPS 180-4 §4.2, §5.3). */
_Alignas(16) static const uint32_t K256[64] = {
	0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
	0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
	0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
	0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
	0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
	0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
	0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
	0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
	0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
	0xc67178f2u};

static const uint64_t K512[80] = {
	0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
	0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
	0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
	0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
	0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
	0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
	0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
	0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
	0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
	0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
	0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
	0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
	0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
	0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
	0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
	0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
	0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
	0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
	0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
	0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull};

static const uint32_t H256[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
				 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};

static const uint64_t H384[8] = {
	0xcbbb9d5dc1059ed8ull, 0x629a292a367cd507ull, 0x9159015a3070dd17ull, 0x152fecd8f70e5939ull,
	0x67332667ffc00b31ull, 0x8eb44a8768581511ull, 0xdb0c2e0d64f98fa7ull, 0x47b5481dbefa4fa4ull};

static const uint64_t H512[8] = {
	0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
	0x510e527fade682d1ull, 0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull};

static inline uint32_t
ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint64_t
ror64(uint64_t x, unsigned n)
{
	return (x >> n) | (x << (64 - n));
}

static inline uint32_t
load32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t
load64(const uint8_t *p)
{
	return ((uint64_t)load32(p) << 32) | load32(p + 4);
}

static inline void
store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
store64(uint8_t *p, uint64_t v)
{
	store32(p, (uint32_t)(v >> 32));
	store32(p + 4, (uint32_t)v);
}

/* The round functions; the message schedule is kept in a 16-word ring so the working set
 * stays in registers. Rounds are unrolled 8 (or 16) at a time by renaming a..h instead of
 * shifting them, which is most of the speed. */
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

#define S256_0(x) (ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22))
#define S256_1(x) (ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25))
#define s256_0(x) (ror32(x, 7) ^ ror32(x, 18) ^ ((x) >> 3))
#define s256_1(x) (ror32(x, 17) ^ ror32(x, 19) ^ ((x) >> 10))

#define S512_0(x) (ror64(x, 28) ^ ror64(x, 34) ^ ror64(x, 39))
#define S512_1(x) (ror64(x, 14) ^ ror64(x, 18) ^ ror64(x, 41))
#define s512_0(x) (ror64(x, 1) ^ ror64(x, 8) ^ ((x) >> 7))
#define s512_1(x) (ror64(x, 19) ^ ror64(x, 61) ^ ((x) >> 6))

#define W256(i) (W[(i)&15] += s256_1(W[((i)-2) & 15]) + W[((i)-7) & 15] + s256_0(W[((i)-15) & 15]))
#define W512(i) (W[(i)&15] += s512_1(W[((i)-2) & 15]) + W[((i)-7) & 15] + s512_0(W[((i)-15) & 15]))

#define R256(a, b, c, d, e, f, g, h, i, w)                                                         \
	do {                                                                                       \
		uint32_t t1_ = h + S256_1(e) + CH(e, f, g) + K256[i] + (w);                        \
		d += t1_;                                                                          \
		h = t1_ + S256_0(a) + MAJ(a, b, c);                                                \
	} while (0)

#define R512(a, b, c, d, e, f, g, h, i, w)                                                         \
	do {                                                                                       \
		uint64_t t1_ = h + S512_1(e) + CH(e, f, g) + K512[i] + (w);                        \
		d += t1_;                                                                          \
		h = t1_ + S512_0(a) + MAJ(a, b, c);                                                \
	} while (0)

static void
compress256(uint64_t st[8], const uint8_t *p, size_t nblocks)
{
	uint32_t W[16];
	uint32_t a, b, c, d, e, f, g, h;

	while (nblocks--) {
		a = (uint32_t)st[0];
		b = (uint32_t)st[1];
		c = (uint32_t)st[2];
		d = (uint32_t)st[3];
		e = (uint32_t)st[4];
		f = (uint32_t)st[5];
		g = (uint32_t)st[6];
		h = (uint32_t)st[7];
		for (int i = 0; i < 16; i++)
			W[i] = load32(p + 4 * i);
		for (int i = 0; i < 16; i += 8) {
			R256(a, b, c, d, e, f, g, h, i + 0, W[i + 0]);
			R256(h, a, b, c, d, e, f, g, i + 1, W[i + 1]);
			R256(g, h, a, b, c, d, e, f, i + 2, W[i + 2]);
			R256(f, g, h, a, b, c, d, e, i + 3, W[i + 3]);
			R256(e, f, g, h, a, b, c, d, i + 4, W[i + 4]);
			R256(d, e, f, g, h, a, b, c, i + 5, W[i + 5]);
			R256(c, d, e, f, g, h, a, b, i + 6, W[i + 6]);
			R256(b, c, d, e, f, g, h, a, i + 7, W[i + 7]);
		}
		for (int i = 16; i < 64; i += 8) {
			R256(a, b, c, d, e, f, g, h, i + 0, W256(i + 0));
			R256(h, a, b, c, d, e, f, g, i + 1, W256(i + 1));
			R256(g, h, a, b, c, d, e, f, i + 2, W256(i + 2));
			R256(f, g, h, a, b, c, d, e, i + 3, W256(i + 3));
			R256(e, f, g, h, a, b, c, d, i + 4, W256(i + 4));
			R256(d, e, f, g, h, a, b, c, i + 5, W256(i + 5));
			R256(c, d, e, f, g, h, a, b, i + 6, W256(i + 6));
			R256(b, c, d, e, f, g, h, a, i + 7, W256(i + 7));
		}
		st[0] = (uint32_t)(st[0] + a);
		st[1] = (uint32_t)(st[1] + b);
		st[2] = (uint32_t)(st[2] + c);
		st[3] = (uint32_t)(st[3] + d);
		st[4] = (uint32_t)(st[4] + e);
		st[5] = (uint32_t)(st[5] + f);
		st[6] = (uint32_t)(st[6] + g);
		st[7] = (uint32_t)(st[7] + h);
		p += 64;
	}
}

static void
compress512(uint64_t st[8], const uint8_t *p, size_t nblocks)
{
	uint64_t W[16];
	uint64_t a, b, c, d, e, f, g, h;

	while (nblocks--) {
		a = st[0];
		b = st[1];
		c = st[2];
		d = st[3];
		e = st[4];
		f = st[5];
		g = st[6];
		h = st[7];
		for (int i = 0; i < 16; i++)
			W[i] = load64(p + 8 * i);
		for (int i = 0; i < 16; i += 8) {
			R512(a, b, c, d, e, f, g, h, i + 0, W[i + 0]);
			R512(h, a, b, c, d, e, f, g, i + 1, W[i + 1]);
			R512(g, h, a, b, c, d, e, f, i + 2, W[i + 2]);
			R512(f, g, h, a, b, c, d, e, i + 3, W[i + 3]);
			R512(e, f, g, h, a, b, c, d, i + 4, W[i + 4]);
			R512(d, e, f, g, h, a, b, c, i + 5, W[i + 5]);
			R512(c, d, e, f, g, h, a, b, i + 6, W[i + 6]);
			R512(b, c, d, e, f, g, h, a, i + 7, W[i + 7]);
		}
		for (int i = 16; i < 80; i += 8) {
			R512(a, b, c, d, e, f, g, h, i + 0, W512(i + 0));
			R512(h, a, b, c, d, e, f, g, i + 1, W512(i + 1));
			R512(g, h, a, b, c, d, e, f, i + 2, W512(i + 2));
			R512(f, g, h, a, b, c, d, e, i + 3, W512(i + 3));
			R512(e, f, g, h, a, b, c, d, i + 4, W512(i + 4));
			R512(d, e, f, g, h, a, b, c, i + 5, W512(i + 5));
			R512(c, d, e, f, g, h, a, b, i + 6, W512(i + 6));
			R512(b, c, d, e, f, g, h, a, i + 7, W512(i + 7));
		}
		st[0] += a;
		st[1] += b;
		st[2] += c;
		st[3] += d;
		st[4] += e;
		st[5] += f;
		st[6] += g;
		st[7] += h;
		p += 128;
	}
}

#ifdef HAVE_SHA_X86
/* Four rounds: two sha256rnds2, each taking two W+K words from the low half of 'wk'. The
 * state lives as ABEF and CDGH (the layout the instruction wants). */
#define SHANI_4(abef, cdgh, wk)                                                                    \
	do {                                                                                       \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);                                      \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));             \
	} while (0)

/* Next four schedule words from the previous sixteen (m0 oldest): FIPS 180-4 §6.2.2 step 1,
 * split into the sigma0 part (msg1), the W[t-7] terms and the sigma1 part (msg2). */
#define SHANI_SCHED(m0, m1, m2, m3)                                                                \
	_mm_sha256msg2_epu32(                                                                      \
		_mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4)), m3)

__attribute__((target("sha,sse4.1,ssse3"))) static void
compress256_shani(uint64_t st[8], const uint8_t *p, size_t nblocks)
{
	/* Byte swap of each 32-bit word: the message words are big-endian. */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	const __m128i *k = (const __m128i *)(const void *)K256;
	__m128i abef = _mm_set_epi32((int)st[0], (int)st[1], (int)st[4], (int)st[5]);
	__m128i cdgh = _mm_set_epi32((int)st[2], (int)st[3], (int)st[6], (int)st[7]);

	while (nblocks--) {
		const __m128i abef0 = abef, cdgh0 = cdgh;
		__m128i m0 =
			_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), bswap);
		__m128i m1 = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), bswap);
		__m128i m2 = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), bswap);
		__m128i m3 = _mm_shuffle_epi8(
			_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), bswap);

		SHANI_4(abef, cdgh, _mm_add_epi32(m0, _mm_loadu_si128(k + 0)));
		SHANI_4(abef, cdgh, _mm_add_epi32(m1, _mm_loadu_si128(k + 1)));
		SHANI_4(abef, cdgh, _mm_add_epi32(m2, _mm_loadu_si128(k + 2)));
		SHANI_4(abef, cdgh, _mm_add_epi32(m3, _mm_loadu_si128(k + 3)));
		/* Rounds 16..63: the ring m0..m3 always holds the last sixteen words. */
		for (int g = 4; g < 16; g += 4) {
			m0 = SHANI_SCHED(m0, m1, m2, m3);
			SHANI_4(abef, cdgh, _mm_add_epi32(m0, _mm_loadu_si128(k + g)));
			m1 = SHANI_SCHED(m1, m2, m3, m0);
			SHANI_4(abef, cdgh, _mm_add_epi32(m1, _mm_loadu_si128(k + g + 1)));
			m2 = SHANI_SCHED(m2, m3, m0, m1);
			SHANI_4(abef, cdgh, _mm_add_epi32(m2, _mm_loadu_si128(k + g + 2)));
			m3 = SHANI_SCHED(m3, m0, m1, m2);
			SHANI_4(abef, cdgh, _mm_add_epi32(m3, _mm_loadu_si128(k + g + 3)));
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
		p += 64;
	}
	st[0] = (uint32_t)_mm_extract_epi32(abef, 3);
	st[1] = (uint32_t)_mm_extract_epi32(abef, 2);
	st[4] = (uint32_t)_mm_extract_epi32(abef, 1);
	st[5] = (uint32_t)_mm_extract_epi32(abef, 0);
	st[2] = (uint32_t)_mm_extract_epi32(cdgh, 3);
	st[3] = (uint32_t)_mm_extract_epi32(cdgh, 2);
	st[6] = (uint32_t)_mm_extract_epi32(cdgh, 1);
	st[7] = (uint32_t)_mm_extract_epi32(cdgh, 0);
}

static bool
cpu_has_sha_x86(void)
{
	unsigned a, b, c, d;
	/* SSSE3 (pshufb) and SSE4.1 (pextrd) in leaf 1 ECX, SHA in leaf 7 EBX. GCC's
	 * __builtin_cpu_supports knows "sha" but clang 14's does not, so ask CPUID. */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & (1u << 29)) != 0;
}
#endif

#ifdef HAVE_SHA_X86
/* SHA-512 with the message schedule in AVX2 registers, two blocks at a time (one in each
 * 128-bit half, two words per half), written to memory as W+K; the rounds then run on
 * scalar registers with nothing but the round function left to do (BMI2's rorx rotates
 * without touching flags or the source). The schedule is about a third of the portable
 * code's work per round and runs on vector ports beside the rounds. ZONEMD hashes whole
 * zones with SHA-384 at every commit, so this is the hub's largest single cost. */
#define RORQ(x, n) _mm256_or_si256(_mm256_srli_epi64(x, n), _mm256_slli_epi64(x, 64 - (n)))

/* the next two words of both blocks from the ring: x16 holds W[t-16..t-15], x15..x14 the
 * pair starting at W[t-15] (and so on), x2 W[t-2..t-1] */
#define SCHED512(x16, x15, x7, x2)                                                                 \
	_mm256_add_epi64(                                                                          \
		_mm256_add_epi64(x16, x7),                                                         \
		_mm256_add_epi64(_mm256_xor_si256(_mm256_xor_si256(RORQ(x15, 1), RORQ(x15, 8)),    \
						  _mm256_srli_epi64(x15, 7)),                      \
				 _mm256_xor_si256(_mm256_xor_si256(RORQ(x2, 19), RORQ(x2, 61)),    \
						  _mm256_srli_epi64(x2, 6))))

/* Step g (0..39) of the schedule of two blocks (b1 may be b0: then both halves are the same
 * block): words 2g and 2g+1 of each, plus K, into wk[0] and wk[1]. x is the ring of the
 * last sixteen words of both blocks. */
__attribute__((target("avx2"), always_inline)) static inline void
sched512_step(__m256i x[8], int g, const uint8_t *b0, const uint8_t *b1, uint64_t wk[2][80])
{
	__m256i n;

	if (g < 8) {
		/* byte swap within each 64-bit word (the words are big-endian) */
		const __m256i bswap = _mm256_set_epi64x(0x08090a0b0c0d0e0fll, 0x0001020304050607ll,
							0x08090a0b0c0d0e0fll, 0x0001020304050607ll);
		__m128i lo = _mm_loadu_si128((const __m128i *)(const void *)(b0 + 16 * g));
		__m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(b1 + 16 * g));
		n = _mm256_shuffle_epi8(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1),
					bswap);
	} else {
		__m256i x16 = x[g & 7];
		__m256i x15 = _mm256_alignr_epi8(x[(g - 7) & 7], x16, 8);
		__m256i x7 = _mm256_alignr_epi8(x[(g - 3) & 7], x[(g - 4) & 7], 8);
		n = SCHED512(x16, x15, x7, x[(g - 1) & 7]);
	}
	x[g & 7] = n;
	__m256i v = _mm256_add_epi64(n, _mm256_broadcastsi128_si256(_mm_loadu_si128(
						(const __m128i *)(const void *)(K512 + 2 * g))));
	_mm_storeu_si128((__m128i *)(void *)(wk[0] + 2 * g), _mm256_castsi256_si128(v));
	_mm_storeu_si128((__m128i *)(void *)(wk[1] + 2 * g), _mm256_extracti128_si256(v, 1));
}

/* One round on precomputed W+K. h + W+K does not depend on this round's e, so it is added
 * off the critical path (e -> S1/CH -> the new e); MAJ uses b ^ ((a ^ b) & (b ^ c)) where
 * b ^ c is the previous round's a ^ b (carried in bc, the new a ^ b left in ab). */
#define R512WK(a, b, c, d, e, f, g, h, wk, ab, bc)                                                 \
	do {                                                                                       \
		uint64_t t1_ = (h + (wk)) + CH(e, f, g) + S512_1(e);                               \
		ab = a ^ b;                                                                        \
		d += t1_;                                                                          \
		h = t1_ + S512_0(a) + (b ^ (ab & bc));                                             \
	} while (0)

/* The rounds of one pair of blocks run while the vector unit schedules the next pair, two
 * schedule steps per eight rounds (what the out-of-order core can overlap). */
__attribute__((target("avx2,bmi2"))) static void
compress512_avx2(uint64_t st[8], const uint8_t *p, size_t nblocks)
{
	_Alignas(32) uint64_t wk[2][2][80];
	__m256i x[8];
	int cur = 0;

	/* a lone block (hash_update buffering small pieces) gains nothing from a schedule that
	 * cannot overlap rounds, and the vector set-up makes it slower than the portable code */
	if (nblocks < 2) {
		compress512(st, p, nblocks);
		return;
	}
	for (int g = 0; g < 40; g++)
		sched512_step(x, g, p, nblocks >= 2 ? p + 128 : p, wk[0]);
	while (nblocks > 0) {
		size_t here = nblocks >= 2 ? 2 : 1;
		size_t left = nblocks - here;
		const uint8_t *n0 = p + 128 * here;
		const uint8_t *n1 = left >= 2 ? n0 + 128 : n0;
		int g = 0;

		for (size_t blk = 0; blk < here; blk++) {
			const uint64_t *w = wk[cur][blk];
			uint64_t a = st[0], b = st[1], c = st[2], d = st[3];
			uint64_t e = st[4], f = st[5], gg = st[6], h = st[7];
			uint64_t x0, x1 = b ^ c;
			for (int i = 0; i < 80; i += 8) {
				R512WK(a, b, c, d, e, f, gg, h, w[i + 0], x0, x1);
				R512WK(h, a, b, c, d, e, f, gg, w[i + 1], x1, x0);
				R512WK(gg, h, a, b, c, d, e, f, w[i + 2], x0, x1);
				R512WK(f, gg, h, a, b, c, d, e, w[i + 3], x1, x0);
				R512WK(e, f, gg, h, a, b, c, d, w[i + 4], x0, x1);
				R512WK(d, e, f, gg, h, a, b, c, w[i + 5], x1, x0);
				R512WK(c, d, e, f, gg, h, a, b, w[i + 6], x0, x1);
				R512WK(b, c, d, e, f, gg, h, a, w[i + 7], x1, x0);
				if (left > 0) {
					sched512_step(x, g, n0, n1, wk[cur ^ 1]);
					sched512_step(x, g + 1, n0, n1, wk[cur ^ 1]);
					g += 2;
				}
			}
			st[0] += a;
			st[1] += b;
			st[2] += c;
			st[3] += d;
			st[4] += e;
			st[5] += f;
			st[6] += gg;
			st[7] += h;
		}
		for (; left > 0 && g < 40; g++)
			sched512_step(x, g, n0, n1, wk[cur ^ 1]);
		cur ^= 1;
		p = n0;
		nblocks = left;
	}
}

/* AVX2 and BMI2 in CPUID leaf 7 EBX, and the OS saving the YMM registers (OSXSAVE, then
 * XCR0's SSE and AVX bits): without the last, AVX2 instructions fault. */
static bool
cpu_has_avx2_x86(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28)))
		return false;
	unsigned lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	(void)hi;
	if ((lo & 6u) != 6u)
		return false;
	if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & (1u << 5)) != 0 && (b & (1u << 8)) != 0;
}
#endif

static bool
portable_forced(void)
{
	const char *env = getenv("FEDNS_SHA2_PORTABLE");
	return env != NULL && env[0] != '\0' && strcmp(env, "0") != 0;
}

typedef void (*compress_fn)(uint64_t st[8], const uint8_t *p, size_t nblocks);

/* Which code one hash runs: impl 0 not chosen yet, 1 portable, 2 the CPU's (SHA-NI for
 * SHA-256, the AVX2 schedule above for SHA-512). Chosen once (CPUID is slow, and traps to
 * the hypervisor in a VM); a race only computes the same answer twice. */
typedef struct dispatch {
	atomic_int impl;
	bool (*cpu_has)(void); /* NULL: no accelerated code in this build */
	compress_fn portable, fast;
} dispatch;

#ifdef HAVE_SHA_X86
static dispatch sha256_code = {0, cpu_has_sha_x86, compress256, compress256_shani};
static dispatch sha512_code = {0, cpu_has_avx2_x86, compress512, compress512_avx2};
#else
static dispatch sha256_code = {0, NULL, compress256, compress256};
static dispatch sha512_code = {0, NULL, compress512, compress512};
#endif

static bool
accelerated(const dispatch *d)
{
	return d->cpu_has != NULL && d->cpu_has();
}

static int
choose(dispatch *d)
{
	int impl = !portable_forced() && accelerated(d) ? 2 : 1;
	atomic_store_explicit(&d->impl, impl, memory_order_relaxed);
	return impl;
}

static void
use_portable(dispatch *d, bool portable)
{
	if (portable)
		atomic_store_explicit(&d->impl, 1, memory_order_relaxed);
	else
		choose(d);
}

static void
run_blocks(dispatch *d, uint64_t st[8], const uint8_t *p, size_t nblocks)
{
	int impl = atomic_load_explicit(&d->impl, memory_order_relaxed);
	if (impl == 0)
		impl = choose(d);
	(impl == 2 ? d->fast : d->portable)(st, p, nblocks);
}

bool
fedns_sha512_accelerated(void)
{
	return accelerated(&sha512_code);
}

void
fedns_sha512_use_portable(bool portable)
{
	use_portable(&sha512_code, portable);
}

bool
fedns_sha256_accelerated(void)
{
	return accelerated(&sha256_code);
}

void
fedns_sha256_use_portable(bool portable)
{
	use_portable(&sha256_code, portable);
}

static size_t
block_len(fedns_hash_alg alg)
{
	return alg == FEDNS_HASH_SHA256 ? 64 : 128;
}

static void
compress(fedns_hash *h, const uint8_t *p, size_t nblocks)
{
	run_blocks(h->alg == FEDNS_HASH_SHA256 ? &sha256_code : &sha512_code, h->h, p, nblocks);
}

size_t
fedns_hash_len(fedns_hash_alg alg)
{
	switch (alg) {
	case FEDNS_HASH_SHA256:
		return FEDNS_SHA256_LEN;
	case FEDNS_HASH_SHA384:
		return FEDNS_SHA384_LEN;
	case FEDNS_HASH_SHA512:
		return FEDNS_SHA512_LEN;
	}
	return 0;
}

void
fedns_hash_init(fedns_hash *h, fedns_hash_alg alg)
{
	memset(h, 0, sizeof(*h));
	h->alg = alg;
	for (int i = 0; i < 8; i++) {
		switch (alg) {
		case FEDNS_HASH_SHA256:
			h->h[i] = H256[i];
			break;
		case FEDNS_HASH_SHA384:
			h->h[i] = H384[i];
			break;
		case FEDNS_HASH_SHA512:
			h->h[i] = H512[i];
			break;
		}
	}
}

void
fedns_hash_update(fedns_hash *h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t bl = block_len(h->alg);

	if (len == 0)
		return;
	h->len += len;
	if (h->fill) {
		size_t take = bl - h->fill;
		if (take > len)
			take = len;
		memcpy(h->block + h->fill, p, take);
		h->fill += take;
		p += take;
		len -= take;
		if (h->fill < bl)
			return;
		compress(h, h->block, 1);
		h->fill = 0;
	}
	/* Whole blocks straight from the caller's memory: no copy on the hot path. */
	if (len >= bl) {
		size_t n = len / bl;
		compress(h, p, n);
		p += n * bl;
		len -= n * bl;
	}
	if (len) {
		memcpy(h->block, p, len);
		h->fill = len;
	}
}

void
fedns_hash_final(fedns_hash *h, uint8_t *out)
{
	size_t bl = block_len(h->alg);
	size_t lenfield = bl == 64 ? 8 : 16;
	uint64_t bits = h->len << 3;
	/* The length field is 128 bits for SHA-384/512; our byte count is below 2^61, so the
	 * high 64 bits of the bit count are the top 3 bits of the byte count. */
	uint64_t bits_hi = h->len >> 61;

	h->block[h->fill++] = 0x80;
	if (h->fill > bl - lenfield) {
		memset(h->block + h->fill, 0, bl - h->fill);
		compress(h, h->block, 1);
		h->fill = 0;
	}
	memset(h->block + h->fill, 0, bl - h->fill);
	if (lenfield == 16)
		store64(h->block + bl - 16, bits_hi);
	store64(h->block + bl - 8, bits);
	compress(h, h->block, 1);

	if (h->alg == FEDNS_HASH_SHA256) {
		for (int i = 0; i < 8; i++)
			store32(out + 4 * i, (uint32_t)h->h[i]);
	} else {
		size_t words = fedns_hash_len(h->alg) / 8;
		for (size_t i = 0; i < words; i++)
			store64(out + 8 * i, h->h[i]);
	}
	fedns_secure_zero(h, sizeof(*h));
}

void
fedns_hash_once(fedns_hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	fedns_hash h;
	fedns_hash_init(&h, alg);
	fedns_hash_update(&h, data, len);
	fedns_hash_final(&h, out);
}

void
fedns_hmac_init(fedns_hmac *m, fedns_hash_alg alg, const uint8_t *key, size_t keylen)
{
	uint8_t k[128];
	uint8_t pad[128];
	size_t bl = block_len(alg);

	memset(k, 0, sizeof(k));
	if (keylen > bl)
		fedns_hash_once(alg, key, keylen, k);
	else if (keylen)
		memcpy(k, key, keylen);

	for (size_t i = 0; i < bl; i++)
		pad[i] = k[i] ^ 0x36;
	fedns_hash_init(&m->inner, alg);
	fedns_hash_update(&m->inner, pad, bl);
	for (size_t i = 0; i < bl; i++)
		pad[i] = k[i] ^ 0x5c;
	fedns_hash_init(&m->outer, alg);
	fedns_hash_update(&m->outer, pad, bl);

	fedns_secure_zero(k, sizeof(k));
	fedns_secure_zero(pad, sizeof(pad));
}

void
fedns_hmac_update(fedns_hmac *m, const void *data, size_t len)
{
	fedns_hash_update(&m->inner, data, len);
}

void
fedns_hmac_final(fedns_hmac *m, uint8_t *out)
{
	uint8_t ih[FEDNS_SHA_MAX_LEN];
	size_t n = fedns_hash_len(m->inner.alg);

	fedns_hash_final(&m->inner, ih);
	fedns_hash_update(&m->outer, ih, n);
	fedns_hash_final(&m->outer, out);
	fedns_secure_zero(ih, sizeof(ih));
	fedns_secure_zero(m, sizeof(*m));
}

void
fedns_secure_zero(void *p, size_t n)
{
	/* Stores through a volatile pointer must be performed, so this survives dead-store
	 * elimination even when the memory is freed right after. */
	volatile uint8_t *v = p;
	while (n--)
		*v++ = 0;
}

int
fedns_ct_memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a;
	const volatile uint8_t *y = b;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= (uint8_t)(x[i] ^ y[i]);
	return acc != 0;
}
