/*
 * map.c - the `map` command's picture: the locations a player has visited,
 * laid out on a grid by following exit directions from where the player
 * stands, drawn as SVG and sent as a data: URL.
 *
 * Layout is a breadth-first walk; a location whose natural cell is taken
 * goes to the nearest free cell.  Stories are not planar, so this is a
 * sketch, not a survey -- which is what a player's own map would be.
 */
#include "verbs.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const int dx[DIR__N] = {0, 0, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1};
static const int dy[DIR__N] = {-1, 1, 0, 0, -1, -1, 1, 1, -1, 1, 1, -1};

#define CELL_W 150
#define CELL_H 80
#define BOX_W 120
#define BOX_H 40

static int
taken(const int *gx, const int *gy, const int *placed, size_t n, int x, int y)
{
    for (size_t i = 0; i < n; i++)
        if (placed[i] && gx[i] == x && gy[i] == y)
            return 1;
    return 0;
}

json_t *
eng_map_frame(tale_player_t *p)
{
    tale_world_t *w = p->w;
    size_t n = w->st->nlocs;
    int *gx = tale_xcalloc(n, sizeof(int)), *gy = tale_xcalloc(n, sizeof(int)), *placed = tale_xcalloc(n, sizeof(int));
    int *queue = tale_xcalloc(n, sizeof(int));
    size_t qh = 0, qt = 0;
    placed[p->location] = 1;
    queue[qt++] = p->location;
    /* visited locations unreachable from here (a one-way trip) start new islands */
    for (;;) {
        while (qh < qt) {
            int l = queue[qh++];
            for (size_t e = 0; e < w->st->locs[l].nexits; e++) {
                const eng_exit_t *x = &w->st->locs[l].exits[e];
                if (!p->visited[x->target] || placed[x->target])
                    continue;
                int nx = gx[l] + dx[x->dir], ny = gy[l] + dy[x->dir];
                for (int r = 1; taken(gx, gy, placed, n, nx, ny) && r < 50; r++) {
                    nx = gx[l] + dx[x->dir] * (r + 1);
                    ny = gy[l] + dy[x->dir] * (r + 1) + (x->dir >= DIR_U ? r : 0);
                }
                gx[x->target] = nx;
                gy[x->target] = ny;
                placed[x->target] = 1;
                queue[qt++] = x->target;
            }
        }
        size_t next = n;
        for (size_t i = 0; i < n; i++)
            if (p->visited[i] && !placed[i]) {
                next = i;
                break;
            }
        if (next == n)
            break;
        int maxy = 0;
        for (size_t i = 0; i < n; i++)
            if (placed[i] && gy[i] > maxy)
                maxy = gy[i];
        gx[next] = 0;
        gy[next] = maxy + 2;
        placed[next] = 1;
        queue[qt++] = (int)next;
    }
    int minx = 0, miny = 0, maxx = 0, maxy = 0;
    for (size_t i = 0; i < n; i++)
        if (placed[i]) {
            minx = gx[i] < minx ? gx[i] : minx;
            miny = gy[i] < miny ? gy[i] : miny;
            maxx = gx[i] > maxx ? gx[i] : maxx;
            maxy = gy[i] > maxy ? gy[i] : maxy;
        }
    int width = (maxx - minx + 1) * CELL_W, height = (maxy - miny + 1) * CELL_H;
    eng_sbuf_t s = {0};
    eng_sb_printf(&s,
                  "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' "
                  "font-family='sans-serif' font-size='12'>\n<rect width='100%%' height='100%%' fill='#fdf6e3'/>\n",
                  width, height, width, height);
#define CX(i) ((gx[i] - minx) * CELL_W + CELL_W / 2)
#define CY(i) ((gy[i] - miny) * CELL_H + CELL_H / 2)
    for (size_t i = 0; i < n; i++) {
        if (!placed[i])
            continue;
        for (size_t e = 0; e < w->st->locs[i].nexits; e++) {
            const eng_exit_t *x = &w->st->locs[i].exits[e];
            if (x->hidden && x->requires >= 0 && !w->flags[x->requires])
                continue;
            if (placed[x->target]) {
                if ((size_t)x->target < i)
                    continue; /* each connection once */
                eng_sb_printf(&s, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#586e75' stroke-width='2'/>\n", CX(i), CY(i),
                              CX(x->target), CY(x->target));
            } else {
                /* an exit to somewhere not yet visited: a short stub */
                int ex = CX(i) + dx[x->dir] * (BOX_W / 2 + 14), ey = CY(i) + dy[x->dir] * (BOX_H / 2 + 14);
                eng_sb_printf(&s, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='#93a1a1' stroke-dasharray='4 3'/>\n", CX(i), CY(i),
                              ex, ey);
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!placed[i])
            continue;
        int here = (int)i == p->location;
        eng_sb_printf(&s, "<rect x='%d' y='%d' width='%d' height='%d' rx='6' fill='%s' stroke='#073642'/>\n", CX(i) - BOX_W / 2,
                      CY(i) - BOX_H / 2, BOX_W, BOX_H, here ? "#b58900" : "#eee8d5");
        eng_sb_printf(&s, "<text x='%d' y='%d' text-anchor='middle' fill='#073642'>", CX(i), CY(i) + 4);
        const char *t = w->st->locs[i].title;
        size_t tl = strlen(t);
        if (tl > 18) {
            eng_sb_escape(&s, t, 17);
            eng_sb_adds(&s, "\xe2\x80\xa6");
        } else {
            eng_sb_escape(&s, t, tl);
        }
        eng_sb_adds(&s, "</text>\n");
    }
    eng_sb_adds(&s, "</svg>\n");
#undef CX
#undef CY
    free(gx);
    free(gy);
    free(placed);
    free(queue);

    static const char prefix[] = "data:image/svg+xml;base64,";
    size_t b64len = 4 * ((s.len + 2) / 3);
    char *url = tale_xmalloc(sizeof prefix + b64len + 1);
    memcpy(url, prefix, sizeof prefix - 1);
    EVP_EncodeBlock((unsigned char *)url + sizeof prefix - 1, (const unsigned char *)s.s, (int)s.len);
    eng_sb_free(&s);
    json_t *f = json_object();
    json_object_set_new(f, "type", json_string("data"));
    json_object_set_new(f, "id", json_string("map-image"));
    json_object_set_new(f, "data", json_string(url));
    free(url);
    return f;
}
