/*
 * ngx_bubble core: palettes as ggplot2 and its packages compute them: hue,
 * Brewer, viridis, gradients in CIE Lab (farver).  Pure functions;
 * tests/unit/test_scale.c checks them against R.
 */


#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "bubble_scale.h"
#include "bubble_r.h"


static uint32_t bubble_hcl_to_rgb(double h, double c, double l);
static int bubble_name_is(const char *name, const char *want);
static const uint32_t *bubble_viridis_map(const char *name);
static void bubble_fmm_spline(int n, const double *x, const double *y,
    double *b, double *c, double *d);
static double bubble_r_round(double x, int digits);
static void bubble_viridis_sample(const uint32_t *map, size_t n,
    uint32_t *out);


/* ---------------------------------------------------------------------- */
/* palettes                                                                 */
/* ---------------------------------------------------------------------- */


/*
 * HCL (polar CIE-LUV) to sRGB the way farver 2.1 does it (ColorSpace's
 * Hcl -> Luv -> Xyz -> Rgb converters), since scales::hue_pal() encodes
 * its colours with farver::encode_colour(from = "hcl"): D65 white
 * (95.047, 100, 108.883), the sRGB matrix and companding, then each
 * channel rounded to nearest (ties to even) and clamped to 0..255.
 */

static uint32_t
bubble_hcl_to_rgb(double h, double c, double l)
{
    int     i;
    double  eps, kappa, wx, wy, wz, hr, u, v, x, y, z, tempr, up, vp, a, b;
    double  rgb[3];

    eps = 216.0 / 24389.0;
    kappa = 24389.0 / 27.0;
    wx = 95.047;
    wy = 100.000;
    wz = 108.883;

    /* Hcl -> Luv */

    hr = h * BUBBLE_PI / 180;
    u = cos(hr) * c;
    v = sin(hr) * c;

    /* Luv -> Xyz */

    if (l == 0.0) {
        x = y = z = 0.0;

    } else {
        y = (l > eps * kappa) ? ((l + 16) / 116) * ((l + 16) / 116)
                                * ((l + 16) / 116)
                              : (l / kappa);
        tempr = wx + 15 * wy + 3 * wz;
        up = 4 * wx / tempr;
        vp = 9 * wy / tempr;
        a = 1. / 3. * (52 * l / (u + 13 * l * up) - 1);
        b = -5 * y;
        x = (y * (39 * l / (v + 13 * l * vp) - 5) - b) / (a + 1. / 3.);
        z = x * a + b;

        if (isnan(z)) {
            x = y = z = 0.0;

        } else {
            x = x * 100;
            y = y * 100;
            z = z * 100;
        }
    }

    /* Xyz -> Rgb */

    x = x / 100.0;
    y = y / 100.0;
    z = z / 100.0;

    rgb[0] = x * 3.2404542 + y * -1.5371385 + z * -0.4985314;
    rgb[1] = x * -0.9692660 + y * 1.8760108 + z * 0.0415560;
    rgb[2] = x * 0.0556434 + y * -0.2040259 + z * 1.0572252;

    for (i = 0; i < 3; i++) {
        rgb[i] = ((rgb[i] > 0.0031308)
                  ? (1.055 * pow(rgb[i], 1 / 2.4) - 0.055)
                  : (12.92 * rgb[i])) * 255.0;

        rgb[i] = rgb[i] < 0 ? 0 : rgb[i] > 255 ? 255 : nearbyint(rgb[i]);
    }

    return ((uint32_t) rgb[0] << 24) | ((uint32_t) rgb[1] << 16)
           | ((uint32_t) rgb[2] << 8) | 0xffU;
}


/*
 * scales::hue_pal()(n): hues seq(15, 375 - 360 / n, length.out = n) %% 360
 * (the circle closes, so the last hue stops one step short of 375),
 * chroma 100, luminance 65.
 */

void
bubble_palette_hue(size_t n, uint32_t *out)
{
    size_t  i;
    double  from, to, by, hue;

    if (n == 0 || out == NULL) {
        return;
    }

    from = 15;
    to = 375 - 360 / (double) n;
    by = (to - from) / (double) (n - 1 > 0 ? n - 1 : 1);

    for (i = 0; i < n; i++) {
        if (i == 0) {
            hue = from;

        } else if (i == n - 1) {
            hue = to;

        } else {
            hue = from + (double) i * by;
        }

        out[i] = bubble_hcl_to_rgb(bubble_r_fmod(hue, 360), 100, 65);
    }
}


/* ColorBrewer (Cynthia Brewer, colorbrewer2.org), as RColorBrewer has them */

static const uint32_t  bubble_brewer_set2[8] = {
    0x66c2a5, 0xfc8d62, 0x8da0cb, 0xe78ac3, 0xa6d854, 0xffd92f, 0xe5c494,
    0xb3b3b3
};

static const uint32_t  bubble_brewer_dark2[8] = {
    0x1b9e77, 0xd95f02, 0x7570b3, 0xe7298a, 0x66a61e, 0xe6ab02, 0xa6761d,
    0x666666
};


/*
 * The viridis colour maps (Stéfan van der Walt, Nathaniel Smith, Eric
 * Firing; cividis: Jamie Nuñez, Christopher Anderton, Ryan Renslow), 256
 * entries each, from the R package viridisLite 0.4.1 (Debian
 * r-cran-viridislite 0.4.1): viridisLite::viridis.map, options D, A, C, B
 * and E, encoded as grDevices::rgb(R, G, B) encodes them -- the colours
 * viridisLite interpolates between.  Generated with
 *
 *   m <- viridisLite::viridis.map[viridisLite::viridis.map$opt == "D", ]
 *   cat(substr(rgb(m$R, m$G, m$B), 2, 7), sep = ", ")
 */

static const uint32_t  bubble_map_viridis[256] = {
    0x440154, 0x440256, 0x450457, 0x450559, 0x46075A, 0x46085C, 0x460A5D,
    0x460B5E, 0x470D60, 0x470E61, 0x471063, 0x471164, 0x471365, 0x481467,
    0x481668, 0x481769, 0x48186A, 0x481A6C, 0x481B6D, 0x481C6E, 0x481D6F,
    0x481F70, 0x482071, 0x482173, 0x482374, 0x482475, 0x482576, 0x482677,
    0x482878, 0x482979, 0x472A7A, 0x472C7A, 0x472D7B, 0x472E7C, 0x472F7D,
    0x46307E, 0x46327E, 0x46337F, 0x463480, 0x453581, 0x453781, 0x453882,
    0x443983, 0x443A83, 0x443B84, 0x433D84, 0x433E85, 0x423F85, 0x424086,
    0x424186, 0x414287, 0x414487, 0x404588, 0x404688, 0x3F4788, 0x3F4889,
    0x3E4989, 0x3E4A89, 0x3E4C8A, 0x3D4D8A, 0x3D4E8A, 0x3C4F8A, 0x3C508B,
    0x3B518B, 0x3B528B, 0x3A538B, 0x3A548C, 0x39558C, 0x39568C, 0x38588C,
    0x38598C, 0x375A8C, 0x375B8D, 0x365C8D, 0x365D8D, 0x355E8D, 0x355F8D,
    0x34608D, 0x34618D, 0x33628D, 0x33638D, 0x32648E, 0x32658E, 0x31668E,
    0x31678E, 0x31688E, 0x30698E, 0x306A8E, 0x2F6B8E, 0x2F6C8E, 0x2E6D8E,
    0x2E6E8E, 0x2E6F8E, 0x2D708E, 0x2D718E, 0x2C718E, 0x2C728E, 0x2C738E,
    0x2B748E, 0x2B758E, 0x2A768E, 0x2A778E, 0x2A788E, 0x29798E, 0x297A8E,
    0x297B8E, 0x287C8E, 0x287D8E, 0x277E8E, 0x277F8E, 0x27808E, 0x26818E,
    0x26828E, 0x26828E, 0x25838E, 0x25848E, 0x25858E, 0x24868E, 0x24878E,
    0x23888E, 0x23898E, 0x238A8D, 0x228B8D, 0x228C8D, 0x228D8D, 0x218E8D,
    0x218F8D, 0x21908D, 0x21918C, 0x20928C, 0x20928C, 0x20938C, 0x1F948C,
    0x1F958B, 0x1F968B, 0x1F978B, 0x1F988B, 0x1F998A, 0x1F9A8A, 0x1E9B8A,
    0x1E9C89, 0x1E9D89, 0x1F9E89, 0x1F9F88, 0x1FA088, 0x1FA188, 0x1FA187,
    0x1FA287, 0x20A386, 0x20A486, 0x21A585, 0x21A685, 0x22A785, 0x22A884,
    0x23A983, 0x24AA83, 0x25AB82, 0x25AC82, 0x26AD81, 0x27AD81, 0x28AE80,
    0x29AF7F, 0x2AB07F, 0x2CB17E, 0x2DB27D, 0x2EB37C, 0x2FB47C, 0x31B57B,
    0x32B67A, 0x34B679, 0x35B779, 0x37B878, 0x38B977, 0x3ABA76, 0x3BBB75,
    0x3DBC74, 0x3FBC73, 0x40BD72, 0x42BE71, 0x44BF70, 0x46C06F, 0x48C16E,
    0x4AC16D, 0x4CC26C, 0x4EC36B, 0x50C46A, 0x52C569, 0x54C568, 0x56C667,
    0x58C765, 0x5AC864, 0x5CC863, 0x5EC962, 0x60CA60, 0x63CB5F, 0x65CB5E,
    0x67CC5C, 0x69CD5B, 0x6CCD5A, 0x6ECE58, 0x70CF57, 0x73D056, 0x75D054,
    0x77D153, 0x7AD151, 0x7CD250, 0x7FD34E, 0x81D34D, 0x84D44B, 0x86D549,
    0x89D548, 0x8BD646, 0x8ED645, 0x90D743, 0x93D741, 0x95D840, 0x98D83E,
    0x9BD93C, 0x9DD93B, 0xA0DA39, 0xA2DA37, 0xA5DB36, 0xA8DB34, 0xAADC32,
    0xADDC30, 0xB0DD2F, 0xB2DD2D, 0xB5DE2B, 0xB8DE29, 0xBADE28, 0xBDDF26,
    0xC0DF25, 0xC2DF23, 0xC5E021, 0xC8E020, 0xCAE11F, 0xCDE11D, 0xD0E11C,
    0xD2E21B, 0xD5E21A, 0xD8E219, 0xDAE319, 0xDDE318, 0xDFE318, 0xE2E418,
    0xE5E419, 0xE7E419, 0xEAE51A, 0xECE51B, 0xEFE51C, 0xF1E51D, 0xF4E61E,
    0xF6E620, 0xF8E621, 0xFBE723, 0xFDE725
};

static const uint32_t  bubble_map_magma[256] = {
    0x000004, 0x010005, 0x010106, 0x010108, 0x020109, 0x02020B, 0x02020D,
    0x03030F, 0x030312, 0x040414, 0x050416, 0x060518, 0x06051A, 0x07061C,
    0x08071E, 0x090720, 0x0A0822, 0x0B0924, 0x0C0926, 0x0D0A29, 0x0E0B2B,
    0x100B2D, 0x110C2F, 0x120D31, 0x130D34, 0x140E36, 0x150E38, 0x160F3B,
    0x180F3D, 0x19103F, 0x1A1042, 0x1C1044, 0x1D1147, 0x1E1149, 0x20114B,
    0x21114E, 0x221150, 0x241253, 0x251255, 0x271258, 0x29115A, 0x2A115C,
    0x2C115F, 0x2D1161, 0x2F1163, 0x311165, 0x331067, 0x341069, 0x36106B,
    0x38106C, 0x390F6E, 0x3B0F70, 0x3D0F71, 0x3F0F72, 0x400F74, 0x420F75,
    0x440F76, 0x451077, 0x471078, 0x491078, 0x4A1079, 0x4C117A, 0x4E117B,
    0x4F127B, 0x51127C, 0x52137C, 0x54137D, 0x56147D, 0x57157E, 0x59157E,
    0x5A167E, 0x5C167F, 0x5D177F, 0x5F187F, 0x601880, 0x621980, 0x641A80,
    0x651A80, 0x671B80, 0x681C81, 0x6A1C81, 0x6B1D81, 0x6D1D81, 0x6E1E81,
    0x701F81, 0x721F81, 0x732081, 0x752181, 0x762181, 0x782281, 0x792282,
    0x7B2382, 0x7C2382, 0x7E2482, 0x802582, 0x812581, 0x832681, 0x842681,
    0x862781, 0x882781, 0x892881, 0x8B2981, 0x8C2981, 0x8E2A81, 0x902A81,
    0x912B81, 0x932B80, 0x942C80, 0x962C80, 0x982D80, 0x992D80, 0x9B2E7F,
    0x9C2E7F, 0x9E2F7F, 0xA02F7F, 0xA1307E, 0xA3307E, 0xA5317E, 0xA6317D,
    0xA8327D, 0xAA337D, 0xAB337C, 0xAD347C, 0xAE347B, 0xB0357B, 0xB2357B,
    0xB3367A, 0xB5367A, 0xB73779, 0xB83779, 0xBA3878, 0xBC3978, 0xBD3977,
    0xBF3A77, 0xC03A76, 0xC23B75, 0xC43C75, 0xC53C74, 0xC73D73, 0xC83E73,
    0xCA3E72, 0xCC3F71, 0xCD4071, 0xCF4070, 0xD0416F, 0xD2426F, 0xD3436E,
    0xD5446D, 0xD6456C, 0xD8456C, 0xD9466B, 0xDB476A, 0xDC4869, 0xDE4968,
    0xDF4A68, 0xE04C67, 0xE24D66, 0xE34E65, 0xE44F64, 0xE55064, 0xE75263,
    0xE85362, 0xE95462, 0xEA5661, 0xEB5760, 0xEC5860, 0xED5A5F, 0xEE5B5E,
    0xEF5D5E, 0xF05F5E, 0xF1605D, 0xF2625D, 0xF2645C, 0xF3655C, 0xF4675C,
    0xF4695C, 0xF56B5C, 0xF66C5C, 0xF66E5C, 0xF7705C, 0xF7725C, 0xF8745C,
    0xF8765C, 0xF9785D, 0xF9795D, 0xF97B5D, 0xFA7D5E, 0xFA7F5E, 0xFA815F,
    0xFB835F, 0xFB8560, 0xFB8761, 0xFC8961, 0xFC8A62, 0xFC8C63, 0xFC8E64,
    0xFC9065, 0xFD9266, 0xFD9467, 0xFD9668, 0xFD9869, 0xFD9A6A, 0xFD9B6B,
    0xFE9D6C, 0xFE9F6D, 0xFEA16E, 0xFEA36F, 0xFEA571, 0xFEA772, 0xFEA973,
    0xFEAA74, 0xFEAC76, 0xFEAE77, 0xFEB078, 0xFEB27A, 0xFEB47B, 0xFEB67C,
    0xFEB77E, 0xFEB97F, 0xFEBB81, 0xFEBD82, 0xFEBF84, 0xFEC185, 0xFEC287,
    0xFEC488, 0xFEC68A, 0xFEC88C, 0xFECA8D, 0xFECC8F, 0xFECD90, 0xFECF92,
    0xFED194, 0xFED395, 0xFED597, 0xFED799, 0xFED89A, 0xFDDA9C, 0xFDDC9E,
    0xFDDEA0, 0xFDE0A1, 0xFDE2A3, 0xFDE3A5, 0xFDE5A7, 0xFDE7A9, 0xFDE9AA,
    0xFDEBAC, 0xFCECAE, 0xFCEEB0, 0xFCF0B2, 0xFCF2B4, 0xFCF4B6, 0xFCF6B8,
    0xFCF7B9, 0xFCF9BB, 0xFCFBBD, 0xFCFDBF
};

static const uint32_t  bubble_map_plasma[256] = {
    0x0D0887, 0x100788, 0x130789, 0x16078A, 0x19068C, 0x1B068D, 0x1D068E,
    0x20068F, 0x220690, 0x240691, 0x260591, 0x280592, 0x2A0593, 0x2C0594,
    0x2E0595, 0x2F0596, 0x310597, 0x330597, 0x350498, 0x370499, 0x38049A,
    0x3A049A, 0x3C049B, 0x3E049C, 0x3F049C, 0x41049D, 0x43039E, 0x44039E,
    0x46039F, 0x48039F, 0x4903A0, 0x4B03A1, 0x4C02A1, 0x4E02A2, 0x5002A2,
    0x5102A3, 0x5302A3, 0x5502A4, 0x5601A4, 0x5801A4, 0x5901A5, 0x5B01A5,
    0x5C01A6, 0x5E01A6, 0x6001A6, 0x6100A7, 0x6300A7, 0x6400A7, 0x6600A7,
    0x6700A8, 0x6900A8, 0x6A00A8, 0x6C00A8, 0x6E00A8, 0x6F00A8, 0x7100A8,
    0x7201A8, 0x7401A8, 0x7501A8, 0x7701A8, 0x7801A8, 0x7A02A8, 0x7B02A8,
    0x7D03A8, 0x7E03A8, 0x8004A8, 0x8104A7, 0x8305A7, 0x8405A7, 0x8606A6,
    0x8707A6, 0x8808A6, 0x8A09A5, 0x8B0AA5, 0x8D0BA5, 0x8E0CA4, 0x8F0DA4,
    0x910EA3, 0x920FA3, 0x9410A2, 0x9511A1, 0x9613A1, 0x9814A0, 0x99159F,
    0x9A169F, 0x9C179E, 0x9D189D, 0x9E199D, 0xA01A9C, 0xA11B9B, 0xA21D9A,
    0xA31E9A, 0xA51F99, 0xA62098, 0xA72197, 0xA82296, 0xAA2395, 0xAB2494,
    0xAC2694, 0xAD2793, 0xAE2892, 0xB02991, 0xB12A90, 0xB22B8F, 0xB32C8E,
    0xB42E8D, 0xB52F8C, 0xB6308B, 0xB7318A, 0xB83289, 0xBA3388, 0xBB3488,
    0xBC3587, 0xBD3786, 0xBE3885, 0xBF3984, 0xC03A83, 0xC13B82, 0xC23C81,
    0xC33D80, 0xC43E7F, 0xC5407E, 0xC6417D, 0xC7427C, 0xC8437B, 0xC9447A,
    0xCA457A, 0xCB4679, 0xCC4778, 0xCC4977, 0xCD4A76, 0xCE4B75, 0xCF4C74,
    0xD04D73, 0xD14E72, 0xD24F71, 0xD35171, 0xD45270, 0xD5536F, 0xD5546E,
    0xD6556D, 0xD7566C, 0xD8576B, 0xD9586A, 0xDA5A6A, 0xDA5B69, 0xDB5C68,
    0xDC5D67, 0xDD5E66, 0xDE5F65, 0xDE6164, 0xDF6263, 0xE06363, 0xE16462,
    0xE26561, 0xE26660, 0xE3685F, 0xE4695E, 0xE56A5D, 0xE56B5D, 0xE66C5C,
    0xE76E5B, 0xE76F5A, 0xE87059, 0xE97158, 0xE97257, 0xEA7457, 0xEB7556,
    0xEB7655, 0xEC7754, 0xED7953, 0xED7A52, 0xEE7B51, 0xEF7C51, 0xEF7E50,
    0xF07F4F, 0xF0804E, 0xF1814D, 0xF1834C, 0xF2844B, 0xF3854B, 0xF3874A,
    0xF48849, 0xF48948, 0xF58B47, 0xF58C46, 0xF68D45, 0xF68F44, 0xF79044,
    0xF79143, 0xF79342, 0xF89441, 0xF89540, 0xF9973F, 0xF9983E, 0xF99A3E,
    0xFA9B3D, 0xFA9C3C, 0xFA9E3B, 0xFB9F3A, 0xFBA139, 0xFBA238, 0xFCA338,
    0xFCA537, 0xFCA636, 0xFCA835, 0xFCA934, 0xFDAB33, 0xFDAC33, 0xFDAE32,
    0xFDAF31, 0xFDB130, 0xFDB22F, 0xFDB42F, 0xFDB52E, 0xFEB72D, 0xFEB82C,
    0xFEBA2C, 0xFEBB2B, 0xFEBD2A, 0xFEBE2A, 0xFEC029, 0xFDC229, 0xFDC328,
    0xFDC527, 0xFDC627, 0xFDC827, 0xFDCA26, 0xFDCB26, 0xFCCD25, 0xFCCE25,
    0xFCD025, 0xFCD225, 0xFBD324, 0xFBD524, 0xFBD724, 0xFAD824, 0xFADA24,
    0xF9DC24, 0xF9DD25, 0xF8DF25, 0xF8E125, 0xF7E225, 0xF7E425, 0xF6E626,
    0xF6E826, 0xF5E926, 0xF5EB27, 0xF4ED27, 0xF3EE27, 0xF3F027, 0xF2F227,
    0xF1F426, 0xF1F525, 0xF0F724, 0xF0F921
};

static const uint32_t  bubble_map_inferno[256] = {
    0x000004, 0x010005, 0x010106, 0x010108, 0x02010A, 0x02020C, 0x02020E,
    0x030210, 0x040312, 0x040314, 0x050417, 0x060419, 0x07051B, 0x08051D,
    0x09061F, 0x0A0722, 0x0B0724, 0x0C0826, 0x0D0829, 0x0E092B, 0x10092D,
    0x110A30, 0x120A32, 0x140B34, 0x150B37, 0x160B39, 0x180C3C, 0x190C3E,
    0x1B0C41, 0x1C0C43, 0x1E0C45, 0x1F0C48, 0x210C4A, 0x230C4C, 0x240C4F,
    0x260C51, 0x280B53, 0x290B55, 0x2B0B57, 0x2D0B59, 0x2F0A5B, 0x310A5C,
    0x320A5E, 0x340A5F, 0x360961, 0x380962, 0x390963, 0x3B0964, 0x3D0965,
    0x3E0966, 0x400A67, 0x420A68, 0x440A68, 0x450A69, 0x470B6A, 0x490B6A,
    0x4A0C6B, 0x4C0C6B, 0x4D0D6C, 0x4F0D6C, 0x510E6C, 0x520E6D, 0x540F6D,
    0x550F6D, 0x57106E, 0x59106E, 0x5A116E, 0x5C126E, 0x5D126E, 0x5F136E,
    0x61136E, 0x62146E, 0x64156E, 0x65156E, 0x67166E, 0x69166E, 0x6A176E,
    0x6C186E, 0x6D186E, 0x6F196E, 0x71196E, 0x721A6E, 0x741A6E, 0x751B6E,
    0x771C6D, 0x781C6D, 0x7A1D6D, 0x7C1D6D, 0x7D1E6D, 0x7F1E6C, 0x801F6C,
    0x82206C, 0x84206B, 0x85216B, 0x87216B, 0x88226A, 0x8A226A, 0x8C2369,
    0x8D2369, 0x8F2469, 0x902568, 0x922568, 0x932667, 0x952667, 0x972766,
    0x982766, 0x9A2865, 0x9B2964, 0x9D2964, 0x9F2A63, 0xA02A63, 0xA22B62,
    0xA32C61, 0xA52C60, 0xA62D60, 0xA82E5F, 0xA92E5E, 0xAB2F5E, 0xAD305D,
    0xAE305C, 0xB0315B, 0xB1325A, 0xB3325A, 0xB43359, 0xB63458, 0xB73557,
    0xB93556, 0xBA3655, 0xBC3754, 0xBD3853, 0xBF3952, 0xC03A51, 0xC13A50,
    0xC33B4F, 0xC43C4E, 0xC63D4D, 0xC73E4C, 0xC83F4B, 0xCA404A, 0xCB4149,
    0xCC4248, 0xCE4347, 0xCF4446, 0xD04545, 0xD24644, 0xD34743, 0xD44842,
    0xD54A41, 0xD74B3F, 0xD84C3E, 0xD94D3D, 0xDA4E3C, 0xDB503B, 0xDD513A,
    0xDE5238, 0xDF5337, 0xE05536, 0xE15635, 0xE25734, 0xE35933, 0xE45A31,
    0xE55C30, 0xE65D2F, 0xE75E2E, 0xE8602D, 0xE9612B, 0xEA632A, 0xEB6429,
    0xEB6628, 0xEC6726, 0xED6925, 0xEE6A24, 0xEF6C23, 0xEF6E21, 0xF06F20,
    0xF1711F, 0xF1731D, 0xF2741C, 0xF3761B, 0xF37819, 0xF47918, 0xF57B17,
    0xF57D15, 0xF67E14, 0xF68013, 0xF78212, 0xF78410, 0xF8850F, 0xF8870E,
    0xF8890C, 0xF98B0B, 0xF98C0A, 0xF98E09, 0xFA9008, 0xFA9207, 0xFA9407,
    0xFB9606, 0xFB9706, 0xFB9906, 0xFB9B06, 0xFB9D07, 0xFC9F07, 0xFCA108,
    0xFCA309, 0xFCA50A, 0xFCA60C, 0xFCA80D, 0xFCAA0F, 0xFCAC11, 0xFCAE12,
    0xFCB014, 0xFCB216, 0xFCB418, 0xFBB61A, 0xFBB81D, 0xFBBA1F, 0xFBBC21,
    0xFBBE23, 0xFAC026, 0xFAC228, 0xFAC42A, 0xFAC62D, 0xF9C72F, 0xF9C932,
    0xF9CB35, 0xF8CD37, 0xF8CF3A, 0xF7D13D, 0xF7D340, 0xF6D543, 0xF6D746,
    0xF5D949, 0xF5DB4C, 0xF4DD4F, 0xF4DF53, 0xF4E156, 0xF3E35A, 0xF3E55D,
    0xF2E661, 0xF2E865, 0xF2EA69, 0xF1EC6D, 0xF1ED71, 0xF1EF75, 0xF1F179,
    0xF2F27D, 0xF2F482, 0xF3F586, 0xF3F68A, 0xF4F88E, 0xF5F992, 0xF6FA96,
    0xF8FB9A, 0xF9FC9D, 0xFAFDA1, 0xFCFFA4
};

static const uint32_t  bubble_map_cividis[256] = {
    0x00204D, 0x00214E, 0x002250, 0x002252, 0x002353, 0x002455, 0x002557,
    0x002558, 0x00265A, 0x00275C, 0x00275E, 0x002860, 0x002961, 0x002A63,
    0x002A65, 0x002B67, 0x002C69, 0x002C6A, 0x002D6C, 0x002E6E, 0x002E6F,
    0x002F6F, 0x002F6F, 0x00306F, 0x00306F, 0x00316F, 0x00326F, 0x00336F,
    0x00336F, 0x00346F, 0x00356E, 0x01366E, 0x06366E, 0x0B376E, 0x0F386E,
    0x12386D, 0x15396D, 0x183A6D, 0x1A3B6D, 0x1D3B6D, 0x1F3C6D, 0x213D6D,
    0x233E6C, 0x243E6C, 0x263F6C, 0x28406C, 0x2A406C, 0x2B416C, 0x2D426C,
    0x2E436C, 0x30436C, 0x31446B, 0x32456B, 0x34456B, 0x35466B, 0x36476B,
    0x38486B, 0x39486B, 0x3A496B, 0x3B4A6B, 0x3D4A6B, 0x3E4B6B, 0x3F4C6B,
    0x404D6B, 0x414D6B, 0x424E6B, 0x434F6B, 0x444F6B, 0x46506B, 0x47516B,
    0x48526B, 0x49526B, 0x4A536B, 0x4B546C, 0x4C546C, 0x4D556C, 0x4E566C,
    0x4F576C, 0x50576C, 0x51586C, 0x52596C, 0x53596C, 0x545A6C, 0x555B6D,
    0x565C6D, 0x575C6D, 0x585D6D, 0x595E6D, 0x595F6D, 0x5A5F6D, 0x5B606E,
    0x5C616E, 0x5D616E, 0x5E626E, 0x5F636E, 0x60646F, 0x61646F, 0x62656F,
    0x63666F, 0x64666F, 0x646770, 0x656870, 0x666970, 0x676970, 0x686A71,
    0x696B71, 0x6A6C71, 0x6B6C71, 0x6C6D72, 0x6C6E72, 0x6D6E72, 0x6E6F73,
    0x6F7073, 0x707173, 0x717174, 0x727274, 0x727374, 0x737475, 0x747475,
    0x757575, 0x767676, 0x777776, 0x787777, 0x787877, 0x797977, 0x7A7A78,
    0x7B7A78, 0x7C7B78, 0x7D7C78, 0x7E7D78, 0x7F7D78, 0x807E79, 0x817F79,
    0x828079, 0x838079, 0x848179, 0x848279, 0x858379, 0x868379, 0x878479,
    0x888579, 0x898679, 0x8A8779, 0x8B8779, 0x8C8879, 0x8D8979, 0x8E8A79,
    0x8F8A79, 0x908B79, 0x918C78, 0x928D78, 0x938E78, 0x948E78, 0x958F78,
    0x969078, 0x979178, 0x989278, 0x999278, 0x9A9377, 0x9B9477, 0x9C9577,
    0x9D9677, 0x9E9677, 0x9F9777, 0xA09877, 0xA19976, 0xA29A76, 0xA39A76,
    0xA49B76, 0xA59C76, 0xA69D75, 0xA89E75, 0xA99F75, 0xAA9F75, 0xABA074,
    0xACA174, 0xADA274, 0xAEA374, 0xAFA473, 0xB0A473, 0xB1A573, 0xB2A672,
    0xB3A772, 0xB4A872, 0xB5A971, 0xB6A971, 0xB7AA71, 0xB8AB70, 0xB9AC70,
    0xBAAD70, 0xBBAE6F, 0xBCAF6F, 0xBEAF6F, 0xBFB06E, 0xC0B16E, 0xC1B26D,
    0xC2B36D, 0xC3B46D, 0xC4B56C, 0xC5B56C, 0xC6B66B, 0xC7B76B, 0xC8B86A,
    0xC9B96A, 0xCBBA69, 0xCCBB69, 0xCDBC68, 0xCEBC68, 0xCFBD67, 0xD0BE67,
    0xD1BF66, 0xD2C066, 0xD3C165, 0xD4C264, 0xD6C364, 0xD7C463, 0xD8C563,
    0xD9C562, 0xDAC661, 0xDBC761, 0xDCC860, 0xDDC95F, 0xDECA5F, 0xE0CB5E,
    0xE1CC5D, 0xE2CD5C, 0xE3CE5C, 0xE4CF5B, 0xE5D05A, 0xE6D159, 0xE8D259,
    0xE9D358, 0xEAD357, 0xEBD456, 0xECD555, 0xEDD654, 0xEFD753, 0xF0D852,
    0xF1D951, 0xF2DA50, 0xF3DB4F, 0xF4DC4E, 0xF6DD4D, 0xF7DE4C, 0xF8DF4B,
    0xF9E04A, 0xFAE149, 0xFBE248, 0xFDE346, 0xFEE445, 0xFFE544, 0xFFE642,
    0xFFE742, 0xFFE843, 0xFFE944, 0xFFEA46
};


static int
bubble_name_is(const char *name, const char *want)
{
    int  a, b;

    for ( ;; ) {
        a = (unsigned char) *name++;
        b = (unsigned char) *want++;

        if (a >= 'A' && a <= 'Z') {
            a += 'a' - 'A';
        }

        if (a != b) {
            return 0;
        }

        if (a == '\0') {
            return 1;
        }
    }
}


static const uint32_t *
bubble_viridis_map(const char *name)
{
    if (bubble_name_is(name, "viridis")) {
        return bubble_map_viridis;
    }

    if (bubble_name_is(name, "magma")) {
        return bubble_map_magma;
    }

    if (bubble_name_is(name, "plasma")) {
        return bubble_map_plasma;
    }

    if (bubble_name_is(name, "inferno")) {
        return bubble_map_inferno;
    }

    if (bubble_name_is(name, "cividis")) {
        return bubble_map_cividis;
    }

    return NULL;
}


/*
 * Cubic splines a la Forsythe, Malcolm and Moler: fmm_spline() of R's
 * src/library/stats/src/splines.c (splinefun(method = "fmm")), 0-based.
 * The end conditions match the third derivatives of the cubics through
 * the first and the last four points.
 */

/* R's code is 1-based: keep its indices */
#define X(i)  x[(i) - 1]
#define Y(i)  y[(i) - 1]
#define B(i)  b[(i) - 1]
#define C(i)  c[(i) - 1]
#define D(i)  d[(i) - 1]

static void
bubble_fmm_spline(int n, const double *x, const double *y, double *b,
    double *c, double *d)
{
    int     i, nm1;
    double  t;

    if (n < 3) {
        t = (Y(2) - Y(1));
        B(1) = t / (X(2) - X(1));
        B(2) = B(1);
        C(1) = C(2) = D(1) = D(2) = 0.0;
        return;
    }

    nm1 = n - 1;

    /* tridiagonal system: b diagonal, d off-diagonal, c right-hand side */

    D(1) = X(2) - X(1);
    C(2) = (Y(2) - Y(1)) / D(1);

    for (i = 2; i < n; i++) {
        D(i) = X(i + 1) - X(i);
        B(i) = 2.0 * (D(i - 1) + D(i));
        C(i + 1) = (Y(i + 1) - Y(i)) / D(i);
        C(i) = C(i + 1) - C(i);
    }

    /* end conditions from divided differences */

    B(1) = -D(1);
    B(n) = -D(nm1);
    C(1) = C(n) = 0.0;

    if (n > 3) {
        C(1) = C(3) / (X(4) - X(2)) - C(2) / (X(3) - X(1));
        C(n) = C(nm1) / (X(n) - X(n - 2)) - C(n - 2) / (X(nm1) - X(n - 3));
        C(1) = C(1) * D(1) * D(1) / (X(4) - X(1));
        C(n) = -C(n) * D(nm1) * D(nm1) / (X(n) - X(n - 3));
    }

    /* Gaussian elimination */

    for (i = 2; i <= n; i++) {
        t = D(i - 1) / B(i - 1);
        B(i) = B(i) - t * D(i - 1);
        C(i) = C(i) - t * C(i - 1);
    }

    /* backward substitution */

    C(n) = C(n) / B(n);

    for (i = nm1; i >= 1; i--) {
        C(i) = (C(i) - D(i) * C(i + 1)) / B(i);
    }

    /* polynomial coefficients */

    B(n) = (Y(n) - Y(n - 1)) / D(n - 1) + D(n - 1) * (C(n - 1) + 2.0 * C(n));

    for (i = 1; i <= nm1; i++) {
        B(i) = (Y(i + 1) - Y(i)) / D(i) - D(i) * (C(i + 1) + 2.0 * C(i));
        D(i) = (C(i + 1) - C(i)) / D(i);
        C(i) = 3.0 * C(i);
    }

    C(n) = 3.0 * C(n);
    D(n) = D(nm1);
}

#undef X
#undef Y
#undef B
#undef C
#undef D


/*
 * round(x, digits) of R 4.x (fround() in src/nmath/fround.c): of the two
 * neighbours with that many decimals, the nearer, ties to the even one.
 */

static double
bubble_r_round(double x, int digits)
{
    double  sgn, p10, x10, i10, xd, xu, du, dd;

    if (isnan(x) || !isfinite(x) || x == 0.) {
        return x;
    }

    sgn = 1.;

    if (x < 0.) {
        sgn = -1.;
        x = -x;
    }

    if (BUBBLE_LOG10_2 * (0.5 + logb(x)) + digits > 15) {
        return sgn * x;
    }

    p10 = 1.;
    while (digits-- > 0) {
        p10 *= 10.;
    }

    x10 = p10 * x;
    i10 = floor(x10);
    xd = i10 / p10;
    xu = ceil(x10) / p10;

    du = xu - x;
    dd = x - xd;

    return sgn * ((du < dd || (du == dd && fmod(i10, 2.) == 1)) ? xu : xd);
}


/*
 * viridisLite::viridis(n, option = ...): the 256 map colours go to CIE
 * Lab (grDevices::convertColor, D65 as grDevices defines it), each
 * channel gets an fmm spline over seq(0, 1, length.out = 256)
 * (grDevices::colorRamp(space = "Lab", interpolate = "spline")), the
 * splines are read at seq(0, 1, length.out = n), and the result goes back
 * to sRGB, rounded to 5 decimals, clipped, and to 8 bits by rgb().  So
 * viridis(n) is not simply map[round(seq(0, 1, length.out = n) * 255) + 1]:
 * a quarter of the colours differ from that by a step or two (viridis(7)
 * has #443A83, #21908C, #8FD744 where the entries are #443983, #21918C,
 * #8ED645).
 *
 * The matrices are grDevices' own (colorspaces$sRGB: M and solve(M)),
 * and the products are summed in the order the reference BLAS dgemm
 * sums them.  About 26 KB of stack.
 */

/* sRGB -> XYZ: rows R, G, B; columns X, Y, Z */
static const double  bubble_srgb_m[3][3] = {
    { 0.41682134188531705, 0.21492350440961661, 0.019538500400874251 },
    { 0.35657671707797467, 0.71315343415594934, 0.11885890569265833 },
    { 0.17980765358608541, 0.071923061434434166, 0.94698697555338329 }
};

/* its inverse, solve(M): rows X, Y, Z; columns R, G, B */
static const double  bubble_srgb_minv[3][3] = {
    { 3.2065205171444631, -0.97198254620123192, 0.055838338593097898 },
    { -1.5210417837736554, 1.8812686516084871, -0.20474057484135894 },
    { -0.49331084879145587, 0.041672484599589332, 1.0609284332688589 }
};

/* grDevices' D65 white: c2to3(white.points[, "D65"]) = (0.3137, 0.3291) */
static const double  bubble_d65_white[3] = {
    0.95320571254937703, 1, 1.0853843816469158
};


static void
bubble_viridis_sample(const uint32_t *map, size_t n, uint32_t *out)
{
    int     k, ch, seg, lo, hi, mid;
    double  eps, kappa, lin[3], xyz[3], f[3], t, ul, dx, v;
    double  rgb[3], l, a, bb, yr, fy, fx, fz, fx3, fz3, xr, zr;
    double  knot[256], lab[3][256], b[3][256], c[3][256], d[3][256];
    size_t  i;

    eps = 216.0 / 24389.0;
    kappa = 24389.0 / 27.0;

    /* the map in Lab: convertColor(from = "sRGB", to = "Lab") */

    for (k = 0; k < 256; k++) {
        for (ch = 0; ch < 3; ch++) {
            t = (double) ((map[k] >> (16 - 8 * ch)) & 0xff) / 255;
            lin[ch] = (t < 0.04045) ? t / 12.92
                                    : pow((t + 0.055) / 1.055, 2.4);
        }

        for (ch = 0; ch < 3; ch++) {
            xyz[ch] = lin[0] * bubble_srgb_m[0][ch]
                      + lin[1] * bubble_srgb_m[1][ch]
                      + lin[2] * bubble_srgb_m[2][ch];
        }

        for (ch = 0; ch < 3; ch++) {
            t = xyz[ch] / bubble_d65_white[ch];
            f[ch] = (t <= eps) ? (kappa * t + 16) / 116 : pow(t, 1.0 / 3);
        }

        lab[0][k] = 116 * f[1] - 16;
        lab[1][k] = 500 * (f[0] - f[1]);
        lab[2][k] = 200 * (f[1] - f[2]);

        knot[k] = (double) k * (1.0 / 255);
    }

    for (ch = 0; ch < 3; ch++) {
        bubble_fmm_spline(256, knot, lab[ch], b[ch], c[ch], d[ch]);
    }

    /* spline_eval(): the interval search keeps its place between points */

    seg = 0;

    for (i = 0; i < n; i++) {
        if (i == 0) {
            ul = 0;

        } else if (i == n - 1) {
            ul = 1;

        } else {
            ul = 0 + (double) i * (1.0 / (double) (n - 1));
        }

        if (ul < knot[seg] || (seg < 255 && knot[seg + 1] < ul)) {
            lo = 0;
            hi = 256;

            do {
                mid = (lo + hi) / 2;

                if (ul < knot[mid]) {
                    hi = mid;

                } else {
                    lo = mid;
                }

            } while (hi > lo + 1);

            seg = lo;
        }

        dx = ul - knot[seg];

        for (ch = 0; ch < 3; ch++) {
            f[ch] = lab[ch][seg]
                    + dx * (b[ch][seg] + dx * (c[ch][seg]
                                               + dx * d[ch][seg]));
        }

        /* Lab -> XYZ (colorspaces$Lab$toXYZ) */

        l = f[0];
        a = f[1];
        bb = f[2];

        if (l < kappa * eps) {
            yr = l / kappa;

        } else {
            t = (l + 16) / 116;
            yr = t * t * t;
        }

        fy = ((yr <= eps ? kappa * yr : l) + 16) / 116;
        fx = a / 500 + fy;
        fz = fy - bb / 200;
        fz3 = fz * fz * fz;
        fx3 = fx * fx * fx;
        zr = (fz3 <= eps) ? (116 * fz - 16) / kappa : fz3;
        xr = (fx3 <= eps) ? (116 * fx - 16) / kappa : fx3;

        xyz[0] = xr * bubble_d65_white[0];
        xyz[1] = yr * bubble_d65_white[1];
        xyz[2] = zr * bubble_d65_white[2];

        /* XYZ -> sRGB (colorspaces$sRGB$fromXYZ), then the 8-bit code */

        for (ch = 0; ch < 3; ch++) {
            v = xyz[0] * bubble_srgb_minv[0][ch]
                + xyz[1] * bubble_srgb_minv[1][ch]
                + xyz[2] * bubble_srgb_minv[2][ch];

            if (v <= 0.0031308) {
                v = 12.92 * v;

            } else {
                v = 1.055 * pow(v, 1 / 2.4) - 0.055;
            }

            /* convertColor()'s trim(): round(, 5), clip to [0, 1] */
            v = bubble_r_round(v, 5);
            v = v < 0 ? 0 : v > 1 ? 1 : v;

            /* colorRamp() returns * 255, viridis() divides by 255 */
            v = v * 255;
            v = v / 255;

            /* rgb(): ScaleColor() */
            rgb[ch] = (unsigned int) (255 * v + 0.5);
        }

        out[i] = ((uint32_t) rgb[0] << 24) | ((uint32_t) rgb[1] << 16)
                 | ((uint32_t) rgb[2] << 8) | 0xffU;
    }
}


int
bubble_palette_named(const char *name, size_t n, uint32_t *out)
{
    size_t           i;
    const uint32_t  *map;

    if (name == NULL) {
        return -1;
    }

    if (bubble_name_is(name, "hue")) {
        bubble_palette_hue(n, out);
        return 0;
    }

    if (bubble_name_is(name, "set2") || bubble_name_is(name, "dark2")) {
        map = bubble_name_is(name, "set2") ? bubble_brewer_set2
                                           : bubble_brewer_dark2;

        /* ggplot2 gives NA past 8 colours; we start over */
        for (i = 0; i < n; i++) {
            out[i] = BUBBLE_RGBA_OPAQUE(map[i % 8]);
        }

        return 0;
    }

    map = bubble_viridis_map(name);

    if (map == NULL) {
        return -1;
    }

    if (n > 0 && out != NULL) {
        bubble_viridis_sample(map, n, out);
    }

    return 0;
}


/*
 * A continuous map at t: linear interpolation, channel by channel in
 * sRGB, between the two map entries around t * 255; t is clamped to
 * [0, 1], and NaN gives ggplot2's na.value, grey50.
 */

int
bubble_palette_continuous(const char *name, double t, uint32_t *out)
{
    int              i, ch;
    double           pos, frac, c0, c1;
    uint32_t         rgb;
    const uint32_t  *map;

    map = (name != NULL) ? bubble_viridis_map(name) : NULL;

    if (map == NULL) {
        return -1;
    }

    if (isnan(t)) {
        *out = BUBBLE_GREY50;
        return 0;
    }

    t = t < 0 ? 0 : t > 1 ? 1 : t;

    pos = t * 255;
    i = (int) floor(pos);

    if (i >= 255) {
        *out = BUBBLE_RGBA_OPAQUE(map[255]);
        return 0;
    }

    frac = pos - i;
    rgb = 0;

    for (ch = 0; ch < 3; ch++) {
        c0 = (map[i] >> (16 - 8 * ch)) & 0xff;
        c1 = (map[i + 1] >> (16 - 8 * ch)) & 0xff;
        rgb |= (uint32_t) floor(c0 + (c1 - c0) * frac + 0.5) << (16 - 8 * ch);
    }

    *out = BUBBLE_RGBA_OPAQUE(rgb);

    return 0;
}


/*
 * ggplot2's continuous viridis scale (scale_colour_viridis_c): not the
 * 256-entry map, but scales::gradient_n_pal(viridis_pal()(6), space =
 * "Lab"): six colours, each channel interpolated linearly in CIE Lab
 * (stats::approxfun over seq(0, 1, length.out = 6)), converted as farver
 * 2.1 converts (ColorSpace: D65 white 95.047/100/108.883, its sRGB
 * matrices, eps 0.008856 and 7.787) and rounded half to even.
 */

static void
bubble_farver_rgb_to_lab(uint32_t rgba, double *lab)
{
    int     ch;
    double  c[3], x, y, z;

    for (ch = 0; ch < 3; ch++) {
        c[ch] = ((rgba >> (24 - 8 * ch)) & 0xff) / 255.0;
        c[ch] = (c[ch] > 0.04045) ? pow((c[ch] + 0.055) / 1.055, 2.4)
                                  : c[ch] / 12.92;
        c[ch] *= 100;
    }

    x = (c[0] * 0.4124564 + c[1] * 0.3575761 + c[2] * 0.1804375) / 95.047;
    y = (c[0] * 0.2126729 + c[1] * 0.7151522 + c[2] * 0.0721750) / 100.000;
    z = (c[0] * 0.0193339 + c[1] * 0.1191920 + c[2] * 0.9503041) / 108.883;

    x = (x > 0.008856) ? cbrt(x) : 7.787 * x + 16.0 / 116.0;
    y = (y > 0.008856) ? cbrt(y) : 7.787 * y + 16.0 / 116.0;
    z = (z > 0.008856) ? cbrt(z) : 7.787 * z + 16.0 / 116.0;

    lab[0] = 116 * y - 16;
    lab[1] = 500 * (x - y);
    lab[2] = 200 * (y - z);
}


static uint32_t
bubble_farver_lab_to_rgb(const double *lab)
{
    int       ch;
    double    x, y, z, x3, y3, z3, c[3];
    uint32_t  rgba;

    y = (lab[0] + 16) / 116;
    x = lab[1] / 500 + y;
    z = y - lab[2] / 200;

    x3 = x * x * x;
    y3 = y * y * y;
    z3 = z * z * z;

    x = ((x3 > 0.008856) ? x3 : (x - 16.0 / 116.0) / 7.787) * 95.047 / 100;
    y = ((y3 > 0.008856) ? y3 : (y - 16.0 / 116.0) / 7.787) * 100.000 / 100;
    z = ((z3 > 0.008856) ? z3 : (z - 16.0 / 116.0) / 7.787) * 108.883 / 100;

    c[0] = x * 3.2404542 + y * -1.5371385 + z * -0.4985314;
    c[1] = x * -0.9692660 + y * 1.8760108 + z * 0.0415560;
    c[2] = x * 0.0556434 + y * -0.2040259 + z * 1.0572252;

    rgba = 0xff;

    for (ch = 0; ch < 3; ch++) {
        c[ch] = (c[ch] > 0.0031308) ? 1.055 * pow(c[ch], 1 / 2.4) - 0.055
                                    : 12.92 * c[ch];
        /* farver's double2int(): round half to even, then cap */
        c[ch] = nearbyint(c[ch] * 255);
        c[ch] = c[ch] < 0 ? 0 : c[ch] > 255 ? 255 : c[ch];
        rgba |= (uint32_t) c[ch] << (24 - 8 * ch);
    }

    return rgba;
}


/*
 * The six colours and their Lab, per thread for the last map used: this
 * runs once a point, and sampling the map costs 1536 pow() (W3, 5000
 * points: 400 ms of CPU a chart without the cache, 1 ms with it).
 */

static __thread const uint32_t  *bubble_gradient_map;
static __thread double           bubble_gradient_lab[6][3];


int
bubble_palette_gradient(const char *name, double t, uint32_t *out)
{
    int              k;
    double           lab[3], pos, frac, *lab0, *lab1;
    uint32_t         six[6];
    const uint32_t  *map;

    map = (name == NULL) ? NULL : bubble_viridis_map(name);

    if (map == NULL) {
        return -1;
    }

    if (isnan(t)) {
        *out = BUBBLE_GREY50;
        return 0;
    }

    t = t < 0 ? 0 : t > 1 ? 1 : t;

    if (bubble_gradient_map != map) {
        bubble_palette_named(name, 6, six);

        for (k = 0; k < 6; k++) {
            bubble_farver_rgb_to_lab(six[k], bubble_gradient_lab[k]);
        }

        bubble_gradient_map = map;
    }

    pos = t * 5;
    k = (int) floor(pos);
    if (k >= 5) {
        k = 4;
    }
    frac = pos - k;

    lab0 = bubble_gradient_lab[k];
    lab1 = bubble_gradient_lab[k + 1];

    lab[0] = lab0[0] + (lab1[0] - lab0[0]) * frac;
    lab[1] = lab0[1] + (lab1[1] - lab0[1]) * frac;
    lab[2] = lab0[2] + (lab1[2] - lab0[2]) * frac;

    *out = bubble_farver_lab_to_rgb(lab);

    return 0;
}


