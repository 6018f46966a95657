// The marks of the rule tester's chart (threshold lines, alarm stretches, raise and clear pins),
// registered by the tester alone so the city screen's chunk does not carry them.
import { MarkAreaComponent, MarkLineComponent, MarkPointComponent } from 'echarts/components'
import { echarts } from './echarts'

echarts.use([MarkLineComponent, MarkAreaComponent, MarkPointComponent])
