// llamacpp_buffer_probe: load a GGUF with no_alloc (metadata only: no weights read, nothing allocated) and create a
// context, so that llama.cpp reserves its worst-case graph and logs the buffer sizes it WOULD allocate:
// "model buffer size", "llama_kv_cache: size", "compute buffer size". Used by bench/measure_llamacpp_buffers.py.
//
// Build against a llama.cpp checkout (CPU backend is enough):
//   c++ -O1 -std=c++17 bench/llamacpp_buffer_probe.cpp -I$LLAMA/include -I$LLAMA/ggml/include -I$LLAMA/src \
//       -L$LLAMA/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$LLAMA/build/bin -o /tmp/llamacpp_buffer_probe
// Usage: llamacpp_buffer_probe MODEL.gguf n_ctx n_ubatch flash_attn(0/1) n_seq_max type_k type_v [kv_unified 0/1]
// With DUMP_GRAPH=1 it also prints the worst-case graph, one NODE line per node (op, type, shape, view source,
// sources) and one INPUT line per input: calc_transformer_mem.py's llamacpp_graph rebuilds this node list.
#include "llama.h"
#include "ggml.h"
#include "llama-ext.h"  // llama_graph_reserve (src/llama-ext.h: add -I$LLAMA/src)

#include <cstdio>
#include <cstdlib>
#include <cstring>

static ggml_type parse_type(const char * s) {
    if (!strcmp(s, "f16")) return GGML_TYPE_F16;
    if (!strcmp(s, "f32")) return GGML_TYPE_F32;
    if (!strcmp(s, "bf16")) return GGML_TYPE_BF16;
    if (!strcmp(s, "q8_0")) return GGML_TYPE_Q8_0;
    if (!strcmp(s, "q4_0")) return GGML_TYPE_Q4_0;
    fprintf(stderr, "unknown cache type %s\n", s);
    exit(2);
}

int main(int argc, char ** argv) {
    if (argc < 8) {
        fprintf(stderr, "usage: %s MODEL n_ctx n_ubatch fa n_seq_max type_k type_v [kv_unified]\n", argv[0]);
        return 2;
    }
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.no_alloc = true;
    mp.n_gpu_layers = 0;
    mp.load_mode = LLAMA_LOAD_MODE_NONE;  // no mmap: with no_alloc nothing is read
    mp.lazy_mode = LLAMA_LAZY_MODE_OFF;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "load failed\n"); return 1; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = atoi(argv[2]);
    cp.n_ubatch = atoi(argv[3]);
    cp.n_batch = cp.n_ubatch > 2048 ? cp.n_ubatch : 2048;
    cp.flash_attn_type = atoi(argv[4]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.n_seq_max = atoi(argv[5]);
    cp.type_k = parse_type(argv[6]);
    cp.type_v = parse_type(argv[7]);
    cp.kv_unified = argc > 8 && atoi(argv[8]);
    cp.swa_full = false;  // common.h's default (llama-server, llama-cli): sliding layers keep their window only
    cp.n_threads = 1;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "context failed\n"); return 1; }
    if (getenv("DUMP_GRAPH")) {
        // the worst-case graph as llama.cpp builds it (before the scheduler's splits): one line per node
        ggml_cgraph * gf = llama_graph_reserve(ctx, cp.n_ubatch, 1, cp.n_ubatch);
        for (int i = 0; i < ggml_graph_n_nodes(gf); i++) {
            ggml_tensor * t = ggml_graph_node(gf, i);
            printf("NODE %d %s %s %s [%lld,%lld,%lld,%lld] nb=%zu view=%s flags=%d src=", i, t->name, ggml_op_desc(t),
                   ggml_type_name(t->type), (long long) t->ne[0], (long long) t->ne[1], (long long) t->ne[2],
                   (long long) t->ne[3], ggml_nbytes(t), t->view_src ? t->view_src->name : "-", t->flags);
            for (int j = 0; j < GGML_MAX_SRC; j++) {
                if (t->src[j]) printf("%s%s", j ? "," : "", t->src[j]->name);
            }
            printf("\n");
            for (int j = 0; j < GGML_MAX_SRC; j++) {
                ggml_tensor * s = t->src[j];
                if (s && (s->flags & GGML_TENSOR_FLAG_INPUT)) {
                    printf("INPUT %s %s [%lld,%lld,%lld,%lld] nb=%zu\n", s->name, ggml_type_name(s->type),
                           (long long) s->ne[0], (long long) s->ne[1], (long long) s->ne[2], (long long) s->ne[3],
                           ggml_nbytes(s));
                }
            }
        }
    }
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
