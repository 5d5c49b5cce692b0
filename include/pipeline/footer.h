/* footer - the list's footer, for the posts and the digests it goes in */
#ifndef CONVENE_FOOTER_H
#define CONVENE_FOOTER_H

struct conf;
struct conf_list;

/* The list's footer (template "footer"), newly allocated; NULL when the
 * list has none or it cannot be rendered (logged). */
char *footer_render(const struct conf *c, const struct conf_list *l);

#endif
