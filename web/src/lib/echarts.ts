// Only the ECharts pieces the city screen uses.
import * as echarts from 'echarts/core'
import { MapChart, PieChart, BarChart, LineChart } from 'echarts/charts'
import { TooltipComponent, VisualMapComponent, GridComponent, LegendComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([MapChart, PieChart, BarChart, LineChart, TooltipComponent, VisualMapComponent, GridComponent, LegendComponent, CanvasRenderer])

export { echarts }
export type EChartsOption = Parameters<echarts.ECharts['setOption']>[0]

export const DARK_TEXT = '#cfe3ff'
export const PALETTE = ['#4fc3f7', '#ffb74d', '#81c784', '#e57373', '#ba68c8', '#fff176', '#4db6ac', '#f06292']
