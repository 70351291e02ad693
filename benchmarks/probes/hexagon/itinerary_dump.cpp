// Prints, for every Hexagon opcode of the installed LLVM, its itinerary under one CPU:
// the stages (cycles:unit-bitmask:next-cycles), the operand register classes and the operand
// cycles. Built and run by itineraries.py (this folder) against the system's libLLVM; it reads
// LLVM's public MC API only (MCSubtargetInfo::getInstrItineraryForCPU).
#include "llvm/MC/MCInstrInfo.h"
#include "llvm/MC/MCInstrItineraries.h"
#include "llvm/MC/MCRegisterInfo.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include <cstdio>
#include <string>
using namespace llvm;

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s hexagonvNN\n", argv[0]); return 2; }
  InitializeAllTargetInfos();
  InitializeAllTargetMCs();
  std::string err, triple = "hexagon";
  const Target *T = TargetRegistry::lookupTarget(triple, err);
  if (!T) { fprintf(stderr, "%s\n", err.c_str()); return 1; }
  MCInstrInfo *MII = T->createMCInstrInfo();
  MCRegisterInfo *MRI = T->createMCRegInfo(triple);
  MCSubtargetInfo *STI = T->createMCSubtargetInfo(triple, argv[1], "+hvx-length128b");
  if (!STI || !STI->isCPUStringValid(argv[1])) { fprintf(stderr, "unknown cpu %s\n", argv[1]); return 1; }
  InstrItineraryData IID = STI->getInstrItineraryForCPU(argv[1]);
  for (unsigned op = 0; op < MII->getNumOpcodes(); ++op) {
    const MCInstrDesc &D = MII->get(op);
    unsigned sc = D.getSchedClass();
    printf("%s ndefs=%u stages=", MII->getName(op).str().c_str(), D.getNumDefs());
    for (const InstrStage *s = IID.beginStage(sc); s != IID.endStage(sc); ++s)
      printf("%u:%llx:%d;", s->getCycles(), (unsigned long long)s->getUnits(), s->getNextCycles());
    printf(" ops=");
    for (unsigned i = 0; i < D.getNumOperands(); ++i) {
      const MCOperandInfo &oi = D.operands()[i];
      printf("%s,", oi.RegClass >= 0 ? MRI->getRegClassName(&MRI->getRegClass(oi.RegClass)) : "imm");
    }
    printf(" cycles=");
    for (unsigned i = 0; i < D.getNumOperands(); ++i) {
      auto c = IID.getOperandCycle(sc, i);
      if (!c) break;
      printf("%u,", *c);
    }
    printf("\n");
  }
  return 0;
}
