/* chart - the health report's picture: weekly counts as bars, a second
 * series as a line, a dashed trend line, drawn with cairo into a PNG
 *
 * Numbers in, bytes out: no text is drawn (the words around the picture
 * come from templates), so no font is needed, and nothing here knows of
 * lists or the store. */
#ifndef CONVENE_CHART_H
#define CONVENE_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* At most this many weeks, and this many pixels a side. */
#define CHART_WEEKS_MAX 104
#define CHART_SIDE_MAX 2000

struct chart {
	int width, height;       /* pixels, 100 to CHART_SIDE_MAX */
	const int64_t *bars;     /* one bar a week (posts), n values */
	const int64_t *line;     /* a line over the bars (new threads), n
				    values; may be NULL */
	size_t n;                /* 1 to CHART_WEEKS_MAX */
	bool trend;              /* draw y = trend_a + trend_b * i */
	double trend_a, trend_b;
	size_t alert_from;       /* bars from this index on are drawn in the
				    alert colour; n: none */
};

/* Draws ch as a PNG into out. Returns 0, or -1 with *error_r (static
 * text): sizes out of range, or cairo's failure. */
int chart_png(const struct chart *ch, struct buf *out, const char **error_r);

#endif
