/* chart - weekly counts drawn with cairo into a PNG */
#include "autoconf.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <cairo.h>

#include "base/chart.h"
#include "base/buf.h"
#include "base/dl.h"

#define MARGIN 12.0

/* cairo and the twenty libraries it brings (X11, fontconfig, freetype...)
 * are loaded on the first chart, not at every start of the program: a
 * `convene receive` per message would pay for them (about 1.5 ms) and
 * never draw. */
#define CAIRO_SONAME "libcairo.so.2"
/* Each function with its name for dlsym. */
#define CAIRO_FNS(X) \
	X(cairo_arc, "cairo_arc") \
	X(cairo_clip, "cairo_clip") \
	X(cairo_create, "cairo_create") \
	X(cairo_destroy, "cairo_destroy") \
	X(cairo_fill, "cairo_fill") \
	X(cairo_image_surface_create, "cairo_image_surface_create") \
	X(cairo_line_to, "cairo_line_to") \
	X(cairo_move_to, "cairo_move_to") \
	X(cairo_paint, "cairo_paint") \
	X(cairo_rectangle, "cairo_rectangle") \
	X(cairo_restore, "cairo_restore") \
	X(cairo_save, "cairo_save") \
	X(cairo_set_dash, "cairo_set_dash") \
	X(cairo_set_line_width, "cairo_set_line_width") \
	X(cairo_set_source_rgb, "cairo_set_source_rgb") \
	X(cairo_status, "cairo_status") \
	X(cairo_status_to_string, "cairo_status_to_string") \
	X(cairo_stroke, "cairo_stroke") \
	X(cairo_surface_destroy, "cairo_surface_destroy") \
	X(cairo_surface_write_to_png_stream, "cairo_surface_write_to_png_stream")

static struct {
#define DECLARE(f, name) __typeof__(f) *f;
	CAIRO_FNS(DECLARE)
#undef DECLARE
} cf;
static bool cf_loaded;
static pthread_once_t cf_once = PTHREAD_ONCE_INIT;

static void cf_load(void)
{
	static const struct dl_fn fns[] = {
#define ENTRY(f, name) DL_FN(cf, f),
		CAIRO_FNS(ENTRY)
#undef ENTRY
	};
	char *err = NULL;

	/* Without it the report goes without its chart (draw says so). */
	cf_loaded = dl_load(CAIRO_SONAME, fns, sizeof fns / sizeof fns[0],
			    &err) == 0;
	free(err);
}


static cairo_status_t write_png(void *closure, const unsigned char *data,
				unsigned int len)
{
	buf_append(closure, (const char *)data, len);
	return CAIRO_STATUS_SUCCESS;
}

/* The top of the scale: a round number at or above the largest value. */
static double scale_top(const struct chart *ch)
{
	double max = 1, step;
	size_t i;

	for (i = 0; i < ch->n; i++) {
		if ((double)ch->bars[i] > max)
			max = (double)ch->bars[i];
		if (ch->line != NULL && (double)ch->line[i] > max)
			max = (double)ch->line[i];
	}
	step = pow(10, floor(log10(max)));
	return ceil(max / step) * step;
}

static void grid(cairo_t *cr, double x0, double y0, double w, double h)
{
	int k;

	cf.cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
	cf.cairo_set_line_width(cr, 1);
	for (k = 0; k <= 4; k++) {
		double y = floor(y0 + h - h * k / 4.0) + 0.5;

		cf.cairo_move_to(cr, x0, y);
		cf.cairo_line_to(cr, x0 + w, y);
	}
	cf.cairo_stroke(cr);
}

static void bars(cairo_t *cr, const struct chart *ch, double x0, double y0,
		 double w, double h, double top)
{
	double slot = w / (double)ch->n;
	size_t i;

	for (i = 0; i < ch->n; i++) {
		double bh = h * (double)ch->bars[i] / top;

		if (i >= ch->alert_from)
			cf.cairo_set_source_rgb(cr, 0.86, 0.42, 0.13);
		else
			cf.cairo_set_source_rgb(cr, 0.29, 0.48, 0.72);
		cf.cairo_rectangle(cr, x0 + slot * (double)i + slot * 0.15,
				y0 + h - bh, slot * 0.7, bh);
		cf.cairo_fill(cr);
	}
}

static void series_line(cairo_t *cr, const struct chart *ch, double x0,
			double y0, double w, double h, double top)
{
	double slot = w / (double)ch->n;
	size_t i;

	cf.cairo_set_source_rgb(cr, 0.13, 0.55, 0.27);
	cf.cairo_set_line_width(cr, 2.5);
	for (i = 0; i < ch->n; i++) {
		double x = x0 + slot * ((double)i + 0.5);
		double y = y0 + h - h * (double)ch->line[i] / top;

		if (i == 0)
			cf.cairo_move_to(cr, x, y);
		else
			cf.cairo_line_to(cr, x, y);
	}
	cf.cairo_stroke(cr);
	for (i = 0; i < ch->n; i++) {
		cf.cairo_arc(cr, x0 + slot * ((double)i + 0.5),
			  y0 + h - h * (double)ch->line[i] / top, 3.5, 0,
			  2 * M_PI);
		cf.cairo_fill(cr);
	}
}

static void trend_line(cairo_t *cr, const struct chart *ch, double x0,
		       double y0, double w, double h, double top)
{
	double slot = w / (double)ch->n, dash[] = { 6.0, 4.0 };
	double ya = ch->trend_a, yb = ch->trend_a +
				      ch->trend_b * (double)(ch->n - 1);

	cf.cairo_save(cr);
	cf.cairo_rectangle(cr, x0, y0, w, h);
	cf.cairo_clip(cr);
	cf.cairo_set_source_rgb(cr, 0.6, 0.1, 0.1);
	cf.cairo_set_line_width(cr, 2);
	cf.cairo_set_dash(cr, dash, 2, 0);
	cf.cairo_move_to(cr, x0 + slot * 0.5, y0 + h - h * ya / top);
	cf.cairo_line_to(cr, x0 + slot * ((double)ch->n - 0.5),
		      y0 + h - h * yb / top);
	cf.cairo_stroke(cr);
	cf.cairo_restore(cr);
}

int chart_png(const struct chart *ch, struct buf *out, const char **error_r)
{
	cairo_surface_t *sf;
	cairo_t *cr;
	cairo_status_t cs;
	double x0 = MARGIN, y0 = MARGIN, w, h, top;

	if (ch->width < 100 || ch->height < 100 ||
	    ch->width > CHART_SIDE_MAX || ch->height > CHART_SIDE_MAX ||
	    ch->n == 0 || ch->n > CHART_WEEKS_MAX || ch->bars == NULL) {
		*error_r = "chart: size or number of weeks out of range";
		return -1;
	}
	pthread_once(&cf_once, cf_load);
	if (!cf_loaded) {
		*error_r = "chart: " CAIRO_SONAME " cannot be loaded";
		return -1;
	}
	w = ch->width - 2 * MARGIN;
	h = ch->height - 2 * MARGIN;
	top = scale_top(ch);
	sf = cf.cairo_image_surface_create(CAIRO_FORMAT_RGB24, ch->width,
					ch->height);
	cr = cf.cairo_create(sf);
	cf.cairo_set_source_rgb(cr, 1, 1, 1);
	cf.cairo_paint(cr);
	grid(cr, x0, y0, w, h);
	bars(cr, ch, x0, y0, w, h, top);
	if (ch->line != NULL)
		series_line(cr, ch, x0, y0, w, h, top);
	if (ch->trend)
		trend_line(cr, ch, x0, y0, w, h, top);
	cs = cf.cairo_status(cr);
	cf.cairo_destroy(cr);
	if (cs == CAIRO_STATUS_SUCCESS)
		cs = cf.cairo_surface_write_to_png_stream(sf, write_png, out);
	cf.cairo_surface_destroy(sf);
	if (cs != CAIRO_STATUS_SUCCESS) {
		*error_r = cf.cairo_status_to_string(cs);
		return -1;
	}
	return 0;
}
