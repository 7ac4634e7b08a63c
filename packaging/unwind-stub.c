/* No unwinder: _Unwind_RaiseException fails, so a Rust panic aborts
   ("failed to initiate panic") after its message is printed; a backtrace
   is empty. Enough for libtest (panic=unwind) to link and run passing
   tests on MIPS musl, where no libunwind exists. */
typedef int _Unwind_Reason_Code;
struct _Unwind_Exception;
struct _Unwind_Context;
typedef _Unwind_Reason_Code (*_Unwind_Trace_Fn)(struct _Unwind_Context *, void *);
_Unwind_Reason_Code _Unwind_RaiseException(struct _Unwind_Exception *e) { (void)e; return 5; /* _URC_END_OF_STACK */ }
void _Unwind_Resume(struct _Unwind_Exception *e) { (void)e; __builtin_trap(); }
void _Unwind_DeleteException(struct _Unwind_Exception *e) { (void)e; }
_Unwind_Reason_Code _Unwind_Backtrace(_Unwind_Trace_Fn f, void *a) { (void)f; (void)a; return 5; }
unsigned long _Unwind_GetIP(struct _Unwind_Context *c) { (void)c; return 0; }
unsigned long _Unwind_GetIPInfo(struct _Unwind_Context *c, int *b) { (void)c; *b = 0; return 0; }
unsigned long _Unwind_GetCFA(struct _Unwind_Context *c) { (void)c; return 0; }
unsigned long _Unwind_GetGR(struct _Unwind_Context *c, int i) { (void)c; (void)i; return 0; }
void _Unwind_SetGR(struct _Unwind_Context *c, int i, unsigned long v) { (void)c; (void)i; (void)v; }
void _Unwind_SetIP(struct _Unwind_Context *c, unsigned long v) { (void)c; (void)v; }
unsigned long _Unwind_GetLanguageSpecificData(struct _Unwind_Context *c) { (void)c; return 0; }
unsigned long _Unwind_GetRegionStart(struct _Unwind_Context *c) { (void)c; return 0; }
unsigned long _Unwind_GetTextRelBase(struct _Unwind_Context *c) { (void)c; return 0; }
unsigned long _Unwind_GetDataRelBase(struct _Unwind_Context *c) { (void)c; return 0; }
void *_Unwind_FindEnclosingFunction(void *pc) { (void)pc; return 0; }
